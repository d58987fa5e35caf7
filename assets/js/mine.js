// "我的诉求" on the lookup page /t/: sign in with an SMS code (POST /api/v1/auth/otp, then
// /otp/verify) and list the phone's requests from GET /api/v1/me/tickets, each opening its tracking
// page. The villager token lives in this tab only (sessionStorage). Without JavaScript the section
// stays hidden and the number + last-four-digits form above still works.
// Plain ES2017 (no ?. or ??): old Android WebViews (WeChat) must run it.
(function () {
  'use strict';
  var box = document.getElementById('mine');
  if (!box || !window.fetch || !window.JSON) return;
  box.hidden = false;
  var KEY = 'ms-villager';
  var phoneForm = document.getElementById('mine-phone');
  var codeForm = document.getElementById('mine-code');
  var phoneInput = document.getElementById('mine-phone-input');
  var codeInput = document.getElementById('mine-code-input');
  var statusEl = document.getElementById('mine-status');
  var list = document.getElementById('mine-list');

  function status(text, cls) { statusEl.textContent = text; statusEl.className = 'hint ' + (cls || ''); }
  function digits(p) { var d = String(p).replace(/\D/g, ''); return d.length === 13 && d.indexOf('86') === 0 ? d.slice(2) : d; }
  function session() { try { return JSON.parse(sessionStorage.getItem(KEY)); } catch (e) { return null; } }
  async function post(path, body) {
    var r = await fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    var data = await r.json().catch(function () { return {}; });
    if (!r.ok) throw new Error((data.error && data.error.message) || '请求失败，请稍后再试');
    return data;
  }

  phoneForm.addEventListener('submit', async function (ev) {
    ev.preventDefault();
    var phone = digits(phoneInput.value);
    if (!/^1[3-9]\d{9}$/.test(phone)) { status('请填写11位手机号码', 'status-busy'); phoneInput.focus(); return; }
    status('正在发送验证码…', 'status-busy');
    try {
      await post('/api/v1/auth/otp', { phone: phone });
      codeForm.hidden = false;
      status('验证码已发送到 ' + phone.slice(0, 3) + '****' + phone.slice(-4) + '，5分钟内有效。');
      codeInput.focus();
    } catch (e) { status(e.message, 'status-busy'); }
  });

  codeForm.addEventListener('submit', async function (ev) {
    ev.preventDefault();
    var phone = digits(phoneInput.value);
    var code = codeInput.value.replace(/\D/g, '');
    if (code.length !== 6) { status('请填写短信中的6位验证码', 'status-busy'); codeInput.focus(); return; }
    status('正在验证…', 'status-busy');
    try {
      var t = await post('/api/v1/auth/otp/verify', { phone: phone, code: code });
      try { sessionStorage.setItem(KEY, JSON.stringify({ token: t.access_token, phone: phone })); } catch (e) { /* ignore */ }
      await show({ token: t.access_token, phone: phone });
    } catch (e) { status(e.message, 'status-busy'); }
  });

  async function show(s) {
    status('正在读取…', 'status-busy');
    var r = await fetch('/api/v1/me/tickets?per_page=50', { headers: { Authorization: 'Bearer ' + s.token } });
    if (r.status === 401) {
      try { sessionStorage.removeItem(KEY); } catch (e) { /* ignore */ }
      status('登录已过期，请重新获取验证码。');
      return;
    }
    if (!r.ok) { status('读取失败，请稍后再试', 'status-busy'); return; }
    var data = await r.json();
    phoneForm.hidden = true; codeForm.hidden = true;
    list.innerHTML = '';
    data.items.forEach(function (t) {
      var li = document.createElement('li');
      var a = document.createElement('a');
      a.href = t.tracking_url.replace(/^https?:\/\/[^/]+/, '') + '?phone_tail=' + s.phone.slice(-4);
      var head = document.createElement('strong');
      head.textContent = t.no;
      var st = document.createElement('span');
      st.className = 'status';
      st.textContent = t.status_label;
      var sum = document.createElement('span');
      sum.className = 'summary';
      sum.textContent = t.summary;
      a.appendChild(head); a.appendChild(st); a.appendChild(sum);
      li.appendChild(a); list.appendChild(li);
    });
    status(data.items.length ? s.phone.slice(0, 3) + '****' + s.phone.slice(-4) + ' 共提交过 ' + data.total + ' 件诉求：'
      : '这个号码还没有提交过诉求。', 'status-ok');
  }

  var s = session();
  if (s && s.token) show(s);
})();
