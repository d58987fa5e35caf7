// The return-visit desk: a caller works through the queue with the keyboard. Selecting a ticket and
// pressing Enter claims it (a short lease, and the full phone number appears); one key proposes the
// usual outcomes, recorded after ten seconds unless taken back (Esc) or confirmed at once (Enter);
// the next ticket is selected after each call. Signing in is the console's (staff.js): one login.
(function () {
  'use strict';
  var $ = function (id) { return document.getElementById(id); };
  var api = function (method, path, body) { return Staff.api(method, '/api/v1' + path, body); };
  var UNDO_SECONDS = 10;

  var items = [], sel = 0, claimed = null, pending = null;

  function status(text, err) { $('status').textContent = text; $('status').className = 'status-line' + (err ? ' err' : ''); }
  function fmt(t) {
    if (!t) return '';
    var p = {};
    new Intl.DateTimeFormat('zh-CN', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
      .formatToParts(new Date(t)).forEach(function (x) { p[x.type] = x.value; });
    return p.year + '-' + p.month + '-' + p.day + ' ' + p.hour + ':' + p.minute;
  }

  function show(loggedIn) {
    $('login-view').hidden = loggedIn; $('desk').hidden = !loggedIn;
    Staff.nav('visits');
  }
  Staff.onLogout(function () { clearPending(); claimed = null; items = []; $('queue').innerHTML = ''; show(false); });

  $('login-form').addEventListener('submit', async function (ev) {
    ev.preventDefault();
    $('login-error').hidden = true;
    try {
      await Staff.login($('username').value.trim(), $('password').value);
      $('password').value = '';
      start();
    } catch (e) { $('login-error').textContent = (e && e.message) || '登录失败'; $('login-error').hidden = false; }
  });
  $('logout').addEventListener('click', Staff.logout);

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
      li.dataset.no = it.no;
      var late = it.visit_by && new Date(it.visit_by).getTime() < now;
      li.innerHTML = '<span class="no"></span> <small></small><small></small>';
      li.children[0].textContent = it.no;
      li.children[1].textContent = it.summary;
      li.children[2].textContent = '回访时限 ' + fmt(it.visit_by) + (it.attempts ? ' · 已拨打' + it.attempts + '次' : '') + ' · ' + it.phone;
      if (late) li.children[2].className = 'late';
      li.addEventListener('click', function () { if (pending) return; sel = i; render(); claim(); });
      ol.appendChild(li);
    });
    $('empty').hidden = !!claimed; $('call').hidden = !claimed;
    if (!items.length && !claimed) $('empty').textContent = '暂无待回访的工单。';
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
    satisfied: { label: '满意（已解决）', body: { reached: true, solved: 'yes', satisfaction: 'satisfied', channel: 'phone' } },
    basically: { label: '基本满意（部分解决）', body: { reached: true, solved: 'partly', satisfaction: 'basically_satisfied', channel: 'phone' } },
    dissatisfied: { label: '不满意（未解决）', body: { reached: true, solved: 'no', satisfaction: 'dissatisfied', channel: 'phone' } },
    unreached: { label: '未接通', body: { reached: false, channel: 'phone' } }
  };

  // --- a quick answer is proposed, then recorded after ten seconds unless taken back ---
  function showPending() {
    if (!pending) return;
    var left = Math.max(0, Math.ceil((pending.until - Date.now()) / 1000));
    $('pending-text').textContent = '将记录「' + pending.label + '」（' + pending.no + '）：' + left + ' 秒后自动提交';
  }

  function clearPending() {
    if (!pending) return;
    clearTimeout(pending.timer); clearInterval(pending.tick);
    document.querySelectorAll('[data-quick]').forEach(function (b) { b.classList.remove('chosen'); });
    pending = null;
    $('pending').hidden = true;
  }

  function propose(key) {
    if (!claimed || pending) return;
    var q = QUICK[key];
    var body = Object.assign({}, q.body);
    var c = $('visit-form').elements.comment.value.trim();
    if (c && body.reached) body.comment = c;
    pending = { key: key, label: q.label, body: body, no: claimed.no, until: Date.now() + UNDO_SECONDS * 1000 };
    pending.timer = setTimeout(confirmPending, UNDO_SECONDS * 1000);
    pending.tick = setInterval(showPending, 250);
    document.querySelector('[data-quick=' + key + ']').classList.add('chosen');
    $('pending').hidden = false;
    showPending();
    status('');
  }

  function confirmPending() {
    if (!pending) return;
    var body = pending.body;
    clearPending();
    submit(body);
  }

  function undoPending() {
    if (!pending) return;
    var label = pending.label;
    clearPending();
    status('已撤销「' + label + '」，未记录。');
  }

  $('pending-now').addEventListener('click', confirmPending);
  $('pending-undo').addEventListener('click', undoPending);
  document.querySelectorAll('[data-quick]').forEach(function (b) {
    b.addEventListener('click', function () { propose(b.getAttribute('data-quick')); });
  });
  $('visit-form').addEventListener('submit', function (ev) { ev.preventDefault(); if (!pending) submit(formBody()); });

  document.addEventListener('keydown', function (ev) {
    if ($('desk').hidden) return;
    if (pending) {
      // While an answer waits, Enter records it and Esc takes it back; nothing else happens.
      if (ev.key === 'Enter') { ev.preventDefault(); confirmPending(); }
      else if (ev.key === 'Escape') { ev.preventDefault(); undoPending(); }
      return;
    }
    var typing = /^(INPUT|TEXTAREA)$/.test(ev.target.tagName) && ev.target.type !== 'radio';
    if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); submit(formBody()); return; }
    if (typing) return;
    var k = ev.key.toLowerCase();
    if (k === 'arrowdown' || k === 'j') { sel = Math.min(items.length - 1, sel + 1); render(); ev.preventDefault(); }
    else if (k === 'arrowup' || k === 'k') { sel = Math.max(0, sel - 1); render(); ev.preventDefault(); }
    else if (k === 'enter' && !claimed) { ev.preventDefault(); claim(); }
    else if (k === 'escape') release();
    else if (!claimed) return;
    else if (k === '0') propose('unreached');
    else if (k === 'q') propose('satisfied');
    else if (k === 'w') propose('basically');
    else if (k === 'e') propose('dissatisfied');
    else if (k === 'y') check('solved', 'yes');
    else if (k === 'p') check('solved', 'partly');
    else if (k === 'n') check('solved', 'no');
    else if (k === '1') check('satisfaction', 'satisfied');
    else if (k === '2') check('satisfaction', 'basically_satisfied');
    else if (k === '3') check('satisfaction', 'dissatisfied');
  });

  // A temporary password is changed on the console's form first (the session is the same).
  Staff.onPasswordRequired(function () { location.href = '/console/'; });

  async function start() {
    if (Staff.mustChangePassword()) { location.href = '/console/'; return; }
    show(true);
    try { await load(); $('queue').focus(); } catch (e) { status(e.message, true); }
  }
  if (Staff.session()) start(); else show(false);
})();
