// Enhancements of the card page. Without this script the form still posts and works.
// With it: the draft stays on the phone, photos are shrunk before upload, a failed submission is
// retried with the same Idempotency-Key until the server answers, and the result is shown clearly.
// Plain ES2017 (no ?. or ??): old Android WebViews (WeChat) must run it.
(function () {
  'use strict';
  var form = document.getElementById('intake');
  if (!form || !window.fetch || !window.FormData || !window.JSON) return;
  document.body.classList.add('js');
  var code = form.getAttribute('data-code');

  var KEY = 'ms-draft-' + code;
  var statusEl = document.getElementById('submit-status');
  var submitBtn = document.getElementById('submit');
  // The server's limit, stated on the page and carried by the form.
  var MAX_PHOTOS = parseInt(form.getAttribute('data-max-photos'), 10);

  function load() { try { return JSON.parse(localStorage.getItem(KEY)) || null; } catch (e) { return null; } }
  function save(d) { try { localStorage.setItem(KEY, JSON.stringify(d)); } catch (e) { /* private mode: keep going */ } }
  function field(name) { return form.elements[name]; }
  function setStatus(text, cls) { statusEl.textContent = text; statusEl.className = 'hint ' + (cls || ''); }
  function sleep(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }

  // Keys of forms already filed from this phone: a page shown again from the browser's history
  // carries its old key, which must not file (nor be refused for) a new request.
  var USED = 'ms-used-keys';
  function usedKeys() { try { return JSON.parse(localStorage.getItem(USED)) || []; } catch (e) { return []; } }
  function newKey() {
    var b = new Uint8Array(16);
    window.crypto.getRandomValues(b);
    return Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join('');
  }

  // --- the draft: fields, the idempotency key and uploaded attachments survive a reload ---
  var draft = load() || {};
  if (!draft.key && usedKeys().indexOf(field('idempotency_key').value) >= 0 && window.crypto) draft.key = newKey();
  if (!draft.key) draft.key = field('idempotency_key').value;
  field('idempotency_key').value = draft.key;
  draft.uploads = draft.uploads || [];
  ['description', 'phone', 'name', 'address', 'lat', 'lng'].forEach(function (n) {
    if (draft[n] && !field(n).value) field(n).value = draft[n];
  });
  if (draft.category) {
    var radio = form.querySelector('input[name=category][value="' + draft.category + '"]');
    if (radio) radio.checked = true;
  }
  function remember() {
    ['description', 'phone', 'name', 'address', 'lat', 'lng'].forEach(function (n) { draft[n] = field(n).value; });
    var c = form.querySelector('input[name=category]:checked');
    draft.category = c ? c.value : '';
    save(draft);
  }
  form.addEventListener('input', remember);
  form.addEventListener('change', remember);

  // --- uploads: shrink photos, retry on network failure ---
  var pending = 0;
  var thumbs = document.getElementById('thumbs');
  function thumb(src, label) {
    var f = document.createElement('figure');
    var img = document.createElement('img');
    img.src = src; img.alt = '照片';
    var cap = document.createElement('figcaption');
    cap.textContent = label;
    f.appendChild(img); f.appendChild(cap); thumbs.appendChild(f);
    return cap;
  }
  if (draft.uploads.length) {
    var kept = document.createElement('p');
    kept.className = 'hint';
    kept.textContent = '已保存' + draft.uploads.length + '个附件';
    thumbs.appendChild(kept);
  }

  function shrink(file) {
    return new Promise(function (resolve) {
      var url = URL.createObjectURL(file);
      var img = new Image();
      img.onload = function () {
        var max = 1600, w = img.naturalWidth, h = img.naturalHeight;
        var s = Math.min(1, max / Math.max(w, h));
        var c = document.createElement('canvas');
        c.width = Math.round(w * s); c.height = Math.round(h * s);
        c.getContext('2d').drawImage(img, 0, 0, c.width, c.height);
        URL.revokeObjectURL(url);
        c.toBlob(function (b) { resolve(b || file); }, 'image/jpeg', 0.8);
      };
      img.onerror = function () { URL.revokeObjectURL(url); resolve(file); };
      img.src = url;
    });
  }

  async function upload(blob, name, onTry) {
    for (var attempt = 1; ; attempt++) {
      var fd = new FormData();
      fd.append('file', blob, name);
      var r = null;
      try { r = await fetch('/api/v1/uploads', { method: 'POST', body: fd }); } catch (e) { r = null; }
      if (r && r.status === 201) return await r.json();
      // A refusal, or the server's disk full (507): retrying will not help; the reason is shown and
      // the request can go without this attachment.
      if (r && ((r.status >= 400 && r.status < 500 && r.status !== 429) || r.status === 507)) {
        var e = await r.json().catch(function () { return {}; });
        throw new Error((e.error && e.error.message) || '上传失败');
      }
      if (onTry) onTry(attempt);
      await sleep(Math.min(15000, 1000 * Math.pow(2, attempt - 1)));
    }
  }

  var photoInput = document.getElementById('photo');
  photoInput.addEventListener('change', function () {
    var files = Array.prototype.slice.call(photoInput.files || []);
    photoInput.value = '';
    files.forEach(async function (file) {
      if (draft.uploads.filter(function (u) { return u.kind === 'image'; }).length + pending >= MAX_PHOTOS) return;
      pending++;
      var small = await shrink(file);
      var cap = thumb(URL.createObjectURL(small), '上传中');
      try {
        var res = await upload(small, 'photo.jpg', function (n) { cap.textContent = '重试' + n; });
        draft.uploads.push({ id: res.upload_id, kind: 'image' });
        save(draft);
        cap.textContent = '已上传';
      } catch (e) {
        cap.textContent = '失败';
        setStatus(e.message, 'status-busy');
      } finally { pending--; }
    });
  });

  var voiceInput = document.getElementById('voice');
  var voiceStatus = document.getElementById('voice-status');
  voiceInput.addEventListener('change', async function () {
    var file = voiceInput.files && voiceInput.files[0];
    voiceInput.value = '';
    if (!file) return;
    pending++;
    voiceStatus.textContent = '语音上传中…';
    try {
      var res = await upload(file, file.name || 'voice', function (n) { voiceStatus.textContent = '网络不好，正在重试（第' + n + '次）'; });
      draft.uploads = draft.uploads.filter(function (u) { return u.kind !== 'audio'; });
      draft.uploads.push({ id: res.upload_id, kind: 'audio' });
      save(draft);
      voiceStatus.textContent = '语音已上传';
    } catch (e) { voiceStatus.textContent = e.message; } finally { pending--; }
  });

  // --- location ---
  var locate = document.getElementById('locate');
  if (navigator.geolocation) {
    locate.hidden = false;
    if (field('lat').value) locate.textContent = '已添加位置';
    locate.addEventListener('click', function () {
      locate.textContent = '正在定位…';
      navigator.geolocation.getCurrentPosition(function (p) {
        field('lat').value = p.coords.latitude.toFixed(6);
        field('lng').value = p.coords.longitude.toFixed(6);
        locate.textContent = '已添加位置';
        remember();
      }, function () { locate.textContent = '定位失败，可在“地点”里写明'; }, { timeout: 15000, maximumAge: 600000 });
    });
  }

  // --- submission: the same Idempotency-Key on every try, so a retry can never file twice ---
  function body() {
    var c = form.querySelector('input[name=category]:checked');
    var b = {
      card_code: code, category: c ? c.value : '', description: field('description').value,
      phone: field('phone').value, upload_ids: draft.uploads.map(function (u) { return u.id; })
    };
    if (field('name').value.trim()) b.name = field('name').value;
    if (field('address').value.trim()) b.address = field('address').value;
    if (field('lat').value && field('lng').value) b.location = { lat: +field('lat').value, lng: +field('lng').value };
    return b;
  }

  // Where an error about a request field is shown: next to its own field on the form.
  function fieldOf(name) {
    if (name === 'location') return 'address';
    if (/^upload_ids/.test(name)) return 'photo';
    return name;
  }
  function clearErrors() {
    document.getElementById('form-error').innerHTML = '';
    Array.prototype.forEach.call(form.querySelectorAll('.field-msg'), function (m) { m.textContent = ''; m.hidden = true; });
    Array.prototype.forEach.call(form.querySelectorAll('.field-error'), function (el) {
      el.classList.remove('field-error'); el.removeAttribute('aria-invalid');
    });
  }
  function showError(err) {
    clearErrors();
    var list = (err.errors && err.errors.length) ? err.errors : (err.field ? [{ field: err.field, message: err.message }] : []);
    var first = null;
    list.forEach(function (e) {
      var name = fieldOf(e.field);
      var msg = document.getElementById(name + '-error');
      if (!msg) return;
      msg.textContent = e.message; msg.hidden = false;
      var el = form.elements[name];
      if (el && el.classList) { el.classList.add('field-error'); el.setAttribute('aria-invalid', 'true'); }
      if (!first) first = { msg: msg, el: el && el.length && !el.tagName ? el[0] : el };
    });
    if (!first) {
      var box = document.getElementById('form-error');
      var p = document.createElement('p');
      p.className = 'error'; p.setAttribute('role', 'alert');
      p.textContent = err.message || '提交失败';
      box.appendChild(p);
      box.scrollIntoView({ block: 'center' });
      return;
    }
    first.msg.scrollIntoView({ block: 'start' });
    if (first.el && first.el.focus) first.el.focus({ preventScroll: true });
  }

  // The county's time, as the server's pages write it: 03月10日 10:00.
  function localTime(iso) {
    var d = new Date(iso);
    try {
      var parts = {};
      new Intl.DateTimeFormat('en-GB', { timeZone: form.getAttribute('data-tz') || 'Asia/Shanghai', month: '2-digit',
        day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
        .formatToParts(d).forEach(function (p) { parts[p.type] = p.value; });
      return parts.month + '月' + parts.day + '日 ' + parts.hour + ':' + parts.minute;
    } catch (e) { return d.toLocaleString(); }
  }
  // The number as the server masks it: 138****5678.
  function digits(p) { var d = String(p).replace(/\D/g, ''); return d.length === 13 && d.indexOf('86') === 0 ? d.slice(2) : d; }

  // The result, saying what the server's result page says (templates/result.html).
  function done(answer, sent) {
    localStorage.removeItem(KEY);
    try {
      localStorage.setItem('ms-last-' + code, JSON.stringify(answer));
      localStorage.setItem(USED, JSON.stringify(usedKeys().concat([draft.key]).slice(-20)));
    } catch (e) { /* ignore */ }
    var d = digits(sent.phone);
    var card = document.getElementById('form-card');
    card.className = 'card success';
    card.id = 'result';
    card.innerHTML = '<h2>您的诉求已收到</h2><p>工单编号</p><p class="no" id="ticket-no"></p>' +
      '<p id="respond-by">我们会在 <strong></strong> 前联系您。</p>' +
      '<p id="phone-line">联系电话：<span id="phone-masked"></span></p><p class="hint" id="sms-note"></p>' +
      '<p><a class="button-link primary" id="track-link">查看办理进度</a></p>';
    card.querySelector('#ticket-no').textContent = answer.ticket_no;
    card.querySelector('#respond-by strong').textContent = localTime(answer.respond_by);
    var masked = d.slice(0, 3) + '****' + d.slice(-4);
    card.querySelector('#phone-masked').textContent = masked;
    // A number that has had its day's confirmations gets none: do not promise one.
    card.querySelector('#sms-note').textContent = answer.confirmation_sms === false
      ? '今天发往该号码的短信已达上限，请记下工单编号以便查询。' : '编号也会通过短信发到 ' + masked + '。';
    card.querySelector('#track-link').href = answer.tracking_url.replace(/^https?:\/\/[^/]+/, '') +
      '?phone_tail=' + d.slice(-4);
    card.scrollIntoView({ block: 'start' });
  }

  var sending = false;
  async function submit() {
    if (sending) return;
    sending = true;
    submitBtn.disabled = true;
    draft.submitting = true; save(draft);
    while (pending > 0) { setStatus('附件上传中，请稍候…', 'status-busy'); await sleep(500); }
    clearErrors();
    for (var attempt = 1; ; attempt++) {
      setStatus(attempt === 1 ? '正在提交…' : '网络不好，正在重新提交（第' + attempt + '次）…', 'status-busy');
      var r = null;
      var sent = body();
      try {
        r = await fetch('/api/v1/tickets', {
          method: 'POST', body: JSON.stringify(sent),
          headers: { 'Content-Type': 'application/json', 'Idempotency-Key': draft.key }
        });
      } catch (e) { r = null; }
      if (r && r.status === 201) { done(await r.json(), sent); return; }
      if (r && r.status >= 400 && r.status < 500 && r.status !== 408 && r.status !== 429) {
        var e = await r.json().catch(function () { return {}; });
        sending = false; submitBtn.disabled = false; draft.submitting = false; save(draft);
        setStatus('请修改后重新提交。', 'status-busy');
        showError(e.error || {});
        return;
      }
      var wait = Math.min(15000, 1000 * Math.pow(2, attempt - 1));
      if (r && r.status === 429) wait = 1000 * (+r.headers.get('Retry-After') || 30);
      await Promise.race([sleep(wait), new Promise(function (res) { window.addEventListener('online', res, { once: true }); })]);
    }
  }

  form.addEventListener('submit', function (ev) { ev.preventDefault(); submit(); });

  // A submission that was under way when the page closed is resumed, with the same key.
  if (draft.submitting) {
    var resume = document.getElementById('resume');
    resume.hidden = false;
    resume.textContent = '您上次的诉求还没有确认提交成功，正在重新提交…';
    submit().then(function () { resume.hidden = true; });
  }
})();
