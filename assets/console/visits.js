// The return-visit desk: a caller works through the queue with the keyboard. Selecting a ticket and
// pressing Enter claims it (a short lease, and the full phone number appears); one key records the
// usual outcomes; the next ticket is selected at once.
(function () {
  'use strict';
  var $ = function (id) { return document.getElementById(id); };
  // Signed in already in the staff console (same tab)? Use that session rather than ask again.
  var consoleSession = null;
  try { consoleSession = JSON.parse(sessionStorage.getItem('minsheng.session') || 'null'); } catch (e) { /* ignore */ }
  var token = sessionStorage.getItem('ms-token') || (consoleSession && consoleSession.access_token) || null;
  if (token && !sessionStorage.getItem('ms-name') && consoleSession) sessionStorage.setItem('ms-name', consoleSession.staff.name);

  var items = [], sel = 0, claimed = null;

  function status(text, err) { $('status').textContent = text; $('status').className = 'status' + (err ? ' err' : ''); }
  function fmt(t) {
    if (!t) return '';
    var d = new Date(t);
    return (d.getMonth() + 1) + '月' + d.getDate() + '日 ' + ('0' + d.getHours()).slice(-2) + ':' + ('0' + d.getMinutes()).slice(-2);
  }

  async function api(method, path, body) {
    var r = await fetch('/api/v1' + path, {
      method: method,
      headers: Object.assign({ 'Content-Type': 'application/json' }, token ? { Authorization: 'Bearer ' + token } : {}),
      body: body ? JSON.stringify(body) : undefined
    });
    if (r.status === 401) { logout(); throw new Error('登录已过期，请重新登录'); }
    var data = r.status === 204 ? {} : await r.json().catch(function () { return {}; });
    if (!r.ok) throw new Error((data.error && data.error.message) || ('请求失败 ' + r.status));
    return data;
  }

  function show(loggedIn) {
    $('login').hidden = loggedIn; $('desk').hidden = !loggedIn; $('logout').hidden = !loggedIn;
  }
  function logout() { token = null; sessionStorage.removeItem('ms-token'); show(false); }

  $('login-form').addEventListener('submit', async function (ev) {
    ev.preventDefault();
    try {
      var r = await api('POST', '/auth/login', { username: $('username').value, password: $('password').value });
      token = r.access_token; sessionStorage.setItem('ms-token', token);
      sessionStorage.setItem('ms-name', r.staff.name);
      start();
    } catch (e) { $('login-error').textContent = e.message; }
  });
  $('logout').addEventListener('click', logout);

  async function load() {
    var q = await api('GET', '/return-visits/queue?per_page=100');
    items = q.items; $('count').textContent = q.total;
    if (sel >= items.length) sel = Math.max(0, items.length - 1);
    render();
  }

  function render() {
    var ol = $('queue'); ol.innerHTML = '';
    var now = Date.now();
    items.forEach(function (it, i) {
      var li = document.createElement('li');
      if (i === sel) li.className = 'sel';
      var late = it.visit_by && new Date(it.visit_by).getTime() < now;
      li.innerHTML = '<span class="no"></span> <small></small><small></small>';
      li.children[0].textContent = it.no;
      li.children[1].textContent = it.summary;
      li.children[2].textContent = '回访时限 ' + fmt(it.visit_by) + (it.attempts ? ' · 已拨打' + it.attempts + '次' : '') + ' · ' + it.phone;
      if (late) li.children[2].className = 'late';
      li.addEventListener('click', function () { sel = i; render(); claim(); });
      ol.appendChild(li);
    });
    $('empty').hidden = !!claimed; $('call').hidden = !claimed;
  }

  async function claim() {
    var it = items[sel];
    if (!it) return;
    try {
      claimed = await api('POST', '/return-visits/' + it.no + '/claim');
      $('c-no').textContent = claimed.no; $('c-category').textContent = claimed.category;
      $('c-name').textContent = claimed.name || '（未留姓名）';

      $('c-phone').textContent = claimed.phone; $('c-phone').href = 'tel:' + claimed.phone;
      $('c-lease').textContent = '（认领至 ' + fmt(claimed.lease_until) + '）';
      $('s-desc').textContent = claimed.description.slice(0, 40);
      $('s-unit').textContent = claimed.unit || '';
      $('s-result').textContent = claimed.result || '已办结';
      $('visit-form').reset();
      status('已认领，请拨打电话。');
    } catch (e) { claimed = null; status(e.message, true); }
    render();
  }

  async function release() {
    if (!claimed) return;
    var no = claimed.no; claimed = null; render();
    try { await api('DELETE', '/return-visits/' + no + '/claim'); status('已放弃 ' + no); } catch (e) { status(e.message, true); }
  }

  function check(name, value) {
    var el = document.querySelector('input[name=' + name + '][value=' + value + ']');
    if (el) el.checked = true;
  }

  async function submit(body) {
    if (!claimed) return;
    var no = claimed.no;
    try {
      var r = await api('POST', '/tickets/' + no + '/return-visits', body);
      var what = { visited: '已回访', reopened: '已转重办', unreached: r.unreachable ? '三次未接通，已标记无法联系' : '未接通，稍后再拨' }[r.outcome];
      claimed = null;
      await load();
      status(no + '：' + what);
      $('queue').focus();

    } catch (e) { status(e.message, true); }
  }

  function formBody() {
    var f = $('visit-form');
    var v = function (n) { var el = f.querySelector('input[name=' + n + ']:checked'); return el ? el.value : null; };
    var body = { reached: true, channel: 'phone', solved: v('solved'), satisfaction: v('satisfaction') };
    var scores = {}, any = false;
    ['attitude', 'capability', 'convenience', 'efficiency'].forEach(function (k) {
      var x = f.elements[k].value; if (x) { scores[k] = +x; any = true; }
    });
    if (any) body.scores = scores;
    if (f.elements.comment.value.trim()) body.comment = f.elements.comment.value;
    return body;
  }

  var QUICK = {
    satisfied: { reached: true, solved: 'yes', satisfaction: 'satisfied', channel: 'phone' },
    basically: { reached: true, solved: 'partly', satisfaction: 'basically_satisfied', channel: 'phone' },
    dissatisfied: { reached: true, solved: 'no', satisfaction: 'dissatisfied', channel: 'phone' },
    unreached: { reached: false, channel: 'phone' }
  };
  document.querySelectorAll('[data-quick]').forEach(function (b) {
    b.addEventListener('click', function () {
      var body = Object.assign({}, QUICK[b.getAttribute('data-quick')]);
      var c = $('visit-form').elements.comment.value.trim();
      if (c && body.reached) body.comment = c;
      submit(body);
    });
  });
  $('visit-form').addEventListener('submit', function (ev) { ev.preventDefault(); submit(formBody()); });

  document.addEventListener('keydown', function (ev) {
    if ($('desk').hidden) return;
    var typing = /^(INPUT|TEXTAREA)$/.test(ev.target.tagName) && ev.target.type !== 'radio';
    if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); submit(formBody()); return; }
    if (typing) return;
    var k = ev.key.toLowerCase();
    if (k === 'arrowdown' || k === 'j') { sel = Math.min(items.length - 1, sel + 1); render(); ev.preventDefault(); }
    else if (k === 'arrowup' || k === 'k') { sel = Math.max(0, sel - 1); render(); ev.preventDefault(); }
    else if (k === 'enter' && !claimed) { ev.preventDefault(); claim(); }
    else if (k === 'escape') release();
    else if (!claimed) return;
    else if (k === '0') submit(QUICK.unreached);
    else if (k === 'q') submit(QUICK.satisfied);
    else if (k === 'w') submit(QUICK.basically);
    else if (k === 'e') submit(QUICK.dissatisfied);
    else if (k === 'y') check('solved', 'yes');
    else if (k === 'p') check('solved', 'partly');
    else if (k === 'n') check('solved', 'no');
    else if (k === '1') check('satisfaction', 'satisfied');
    else if (k === '2') check('satisfaction', 'basically_satisfied');
    else if (k === '3') check('satisfaction', 'dissatisfied');
  });

  async function start() {
    show(true);
    $('who').textContent = sessionStorage.getItem('ms-name') || '';
    try { await load(); $('queue').focus(); } catch (e) { status(e.message, true); }
  }
  if (token) start(); else show(false);
})();
