// 民声直达 staff console: a small script over the JSON API. The server decides everything that
// matters (roles, scope, which actions are allowed); this page only shows it and sends forms.
'use strict';
(function () {
  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));
  const store = window.sessionStorage;
  const TZ = 'Asia/Shanghai';
  const fmt = new Intl.DateTimeFormat('zh-CN', { timeZone: TZ, month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false });
  const time = (s) => (s ? fmt.format(new Date(s)).replace(/\//g, '-') : '—');
  const esc = (s) => String(s == null ? '' : s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));

  const STATUS = { submitted: '已提交', registered: '已登记', dispatched: '已派单', accepted: '已签收', in_progress: '办理中', resolved: '已办结', visited: '已回访', closed: '已归档', reopened: '重办', referred: '已下交', merged: '已合并', invalid: '无效' };
  const ACTION = { submit: '提交诉求', register: '登记', dispatch: '派单', accept: '签收', return: '退单', progress: '反馈进展', resolve: '办结', escalate: '提级办理', escalate_request: '申请提级', escalate_refuse: '驳回提级申请', urge: '催办', reopen: '重办', close: '归档', signoff: '会签', refer: '下交议事会', council_decision: '合议决定', merge: '合并', invalid: '作废', return_visit: '回访' };
  const ROLE = { admin: '管理员', operator: '首问登记员', dispatcher: '派单员', cadre: '承办干部', caller: '回访员', leader: '领导', inspector: '纪委监督' };
  const STEP = { respond: '签收', progress: '首次反馈', resolve: '办结' };
  const KIND = { consultation: '咨询', help: '求助', complaint: '投诉', report: '举报', suggestion: '建议', praise: '表扬' };
  const CHANNEL = { qr: '扫码', hotline: '热线', wechat: '微信', sms: '短信', visit: '来访 / 下访', mailbox: '信箱', open311: 'Open311' };

  let session = JSON.parse(store.getItem('minsheng.session') || 'null');
  let lookups = null;
  let listPage = 1;

  // --- API with the access token; one refresh on expiry, then back to the login ---
  // Refresh tokens rotate and a used one is refused (and ends the login): requests that expire
  // together share one refresh, and the new refresh token replaces the old.
  let refreshing = null;
  function refreshed() {
    if (refreshing) return refreshing;
    const mine = session;
    refreshing = (async () => {
      const rr = await fetch('/api/v1/auth/refresh', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ refresh_token: mine.refresh_token }) });
      if (!rr.ok) return false;
      const t = await rr.json();
      mine.access_token = t.access_token;
      mine.refresh_token = t.refresh_token;
      if (session === mine) store.setItem('minsheng.session', JSON.stringify(mine));
      return true;
    })().finally(() => { refreshing = null; });
    return refreshing;
  }

  async function api(method, path, body) {
    // A FormData body (an upload) goes as multipart; the browser sets its boundary.
    const multipart = typeof FormData !== 'undefined' && body instanceof FormData;
    const go = () => fetch(path, {
      method,
      headers: Object.assign({ Accept: 'application/json' }, body && !multipart ? { 'Content-Type': 'application/json' } : {}, session ? { Authorization: 'Bearer ' + session.access_token } : {}),
      body: multipart ? body : body ? JSON.stringify(body) : undefined,
    });
    const used = session;
    const sentWith = session && session.access_token;
    let r = await go();
    if (r.status === 401 && session && session === used && session.refresh_token) {
      // Sent with a token that a refresh has replaced meanwhile: try again with the new one; only a
      // request refused with the current token refreshes (one refresh per expiry, however many).
      if (session.access_token !== sentWith || await refreshed()) r = await go();
    }
    // A late answer to a request of an earlier session must not sign out whoever is in now.
    if (r.status === 401) { if (session === used) logout(); throw { message: '登录已过期，请重新登录' }; }
    if (r.status === 204) return null;
    const data = await r.json().catch(() => ({}));
    if (!r.ok) throw (data.error || { message: '请求失败（' + r.status + '）' });
    return data;
  }

  function has(role) { return session && (session.staff.roles.includes(role) || session.staff.roles.includes('admin')); }

  function logout() {
    session = null; lookups = null;
    store.removeItem('minsheng.session');
    // The next person at this desk sees nothing of the last one's orders.
    $('#detail').innerHTML = '';
    $('#orders tbody').innerHTML = '';
    show('login');
  }

  function show(view) {
    for (const v of ['login', 'list', 'detail', 'new', 'sla']) $('#' + v + '-view').hidden = v !== view;
    $('#nav').hidden = $('#who').hidden = !session;
    if (session) {
      $('#who-name').textContent = session.staff.name + '（' + session.staff.roles.map((r) => ROLE[r] || r).join('、') + '）';
      $$('#nav a').forEach((a) => {
        a.classList.toggle('on', a.dataset.tab === view || (view === 'detail' && a.dataset.tab === 'list'));
        a.hidden = !!a.dataset.roles && !a.dataset.roles.split(',').some(has);
      });
    }
  }

  // --- reference data for filters and forms ---
  async function loadLookups() {
    if (lookups) return lookups;
    const [regions, units, cats] = await Promise.all([
      api('GET', '/api/v1/regions?per_page=100'), api('GET', '/api/v1/units?per_page=100'), api('GET', '/api/v1/categories'),
    ]);
    lookups = { regions: regions.items, units: units.items, categories: cats.items };
    const opt = (v, t) => '<option value="' + esc(v) + '">' + esc(t) + '</option>';
    const f = $('#filters');
    f.status.innerHTML = opt('', '全部') + Object.entries(STATUS).map(([k, v]) => opt(k, v)).join('');
    f.region_id.innerHTML = opt('', '全部') + lookups.regions.filter((r) => r.level !== 'grid').map((r) => opt(r.id, r.name)).join('');
    f.unit_id.innerHTML = opt('', '全部') + lookups.units.map((u) => opt(u.id, u.name)).join('');
    f.category.innerHTML = opt('', '全部') + lookups.categories.filter((c) => !c.parent_code).map((c) => opt(c.code, c.name)).join('');
    $('#new-region').innerHTML = lookups.regions.filter((r) => r.level === 'village' || r.level === 'grid').map((r) => opt(r.id, r.name)).join('');
    $('#new-category').innerHTML = lookups.categories.map((c) => opt(c.code, (c.parent_code ? '　' : '') + c.name)).join('');
    return lookups;
  }

  // --- the work list ---
  function dueCell(row) {
    const d = row.deadline;
    if (!d) return '—';
    return '<span class="due' + (d.late ? ' late' : '') + '">' + esc(d.label) + ' ' + esc(time(d.at)) + (d.late ? ' 已逾期' : '') + '</span>';
  }

  async function loadList() {
    show('list');
    await loadLookups();
    const params = new URLSearchParams();
    for (const el of $('#filters').elements) {
      if (!el.name) continue;
      if (el.type === 'checkbox') { if (el.checked) params.set(el.name, el.value); } else if (el.value) params.set(el.name, el.value);
    }
    params.set('page', listPage);
    const tbody = $('#orders tbody');
    try {
      const data = await api('GET', '/api/v1/tickets?' + params);
      tbody.innerHTML = data.items.map((r) => {
        const late = r.overdue || (r.deadline && r.deadline.late);
        const tags = (r.overdue ? '<span class="tag red">超时</span>' : '') + (r.escalation_pending ? '<span class="tag amber">待审批提级</span>' : '') +
          (r.priority === 'urgent' ? '<span class="tag red">紧急</span>' : '') + (r.repeat_count > 0 ? '<span class="tag">重复' + r.repeat_count + '次</span>' : '');
        return '<tr data-no="' + esc(r.no) + '" class="' + (late ? 'late' : '') + '">' +
          '<td data-label="工单号"><a href="#/t/' + esc(r.no) + '">' + esc(r.no) + '</a>' + tags + '</td>' +
          '<td data-label="状态">' + esc(r.status_label) + '</td>' +
          '<td data-label="内容">' + esc(r.category_name || r.category) + '<span class="summary">' + esc(r.summary) + '</span></td>' +
          '<td data-label="地区">' + esc(r.region_name || '') + '</td>' +
          '<td data-label="承办单位">' + esc(r.unit_name || '—') + '</td>' +
          '<td data-label="当前时限">' + dueCell(r) + '</td>' +
          '<td data-label="受理时间">' + esc(time(r.created_at)) + '</td></tr>';
      }).join('') || '<tr><td colspan="7">没有符合条件的工单</td></tr>';
      const pages = Math.max(1, Math.ceil(data.total / data.per_page));
      $('#list-summary').textContent = '共 ' + data.total + ' 件';
      $('#page-no').textContent = '第 ' + data.page + ' / ' + pages + ' 页';
      $('#prev').disabled = data.page <= 1;
      $('#next').disabled = data.page >= pages;
    } catch (e) {
      tbody.innerHTML = '<tr><td colspan="7" class="error">' + esc(e.message) + '</td></tr>';
    }
  }

  // --- one ticket ---
  function deadlineItems(a, current) {
    const now = Date.now();
    return [['respond', a.respond_by, a.accepted_at], ['progress', a.progress_by, a.first_progress_at], ['resolve', a.resolve_by, a.resolved_at]].map(([step, by, done]) => {
      let cls = '', note = '';
      if (done) { cls = 'done'; note = '已于 ' + time(done) + ' 完成' + (new Date(done) > new Date(by) ? '（超时）' : ''); }
      else if (current && new Date(by).getTime() < now) { cls = 'late'; note = '已逾期'; }
      return '<li class="' + cls + '" data-step="' + step + '"><span>' + STEP[step] + '时限</span><time>' + esc(time(by)) + '</time><em>' + esc(note) + '</em></li>';
    }).join('');
  }

  // --- action forms: one per action, Chinese labels, required fields checked before sending ---
  const PHOTO_TYPES = ['image/jpeg', 'image/png', 'image/webp'];
  const MAX_PHOTOS = 9;
  const MAX_PHOTO_BYTES = 10 * 1024 * 1024;
  const PARTY = { requester: '群众', handler: '承办人', leader: '分管领导', principal: '主要领导' };
  const LEVEL_RANK = { village: 0, township: 1, county: 2 };
  const SATISFACTION = { satisfied: '满意', basically_satisfied: '基本满意', dissatisfied: '不满意' };
  const SOLVED = { yes: '已解决', partly: '部分解决', no: '未解决' };
  const VISIT_CHANNEL = { phone: '电话回访', visit: '上门回访', sms: '短信回访', wechat: '微信回访' };

  function doneText(item) {
    switch (item.action) {
      case 'signoff': return '已会签（' + item.label + '）';
      case 'escalate': return item.label === '申请提级' ? '已申请提级，等待派单员审批' : item.label === '批准提级' ? '已批准提级' : '已提级';
      case 'return': return '已退单，工单回到派单员';
      case 'urge': return '已催办，短信已发给承办人';
      case 'reopen': return '已发起重办，工单回到派单员';
      case 'refer': return '已下交村民议事会';
      case 'council_decision': return '已记录合议决定';
      case 'return_visit': return '已记录回访';
      default: return '已' + item.label;
    }
  }

  /// Where a dispatcher may escalate: by default the lead unit of the parent region (the unit that
  /// supervises this one), or a unit of a region above, or the lead unit of the same region.
  function escalationOptions(t) {
    const a = t.assignment;
    const cur = a && lookups.units.find((u) => u.id === a.unit.id);
    if (!cur) return { fallback: null, units: [] };
    const above = new Set();
    let r = lookups.regions.find((x) => x.id === cur.region_id);
    const hasParent = !!(r && r.parent_id != null);
    while (r && r.parent_id != null) {
      above.add(r.parent_id);
      r = lookups.regions.find((x) => x.id === r.parent_id);
    }
    const sup = hasParent ? a.supervisor : null;
    const units = lookups.units.filter((u) => u.active !== false && u.id !== cur.id && (!sup || u.id !== sup.id) &&
      ((above.has(u.region_id) && (LEVEL_RANK[u.level] == null || LEVEL_RANK[u.level] > (LEVEL_RANK[cur.level] || 0))) ||
       (u.region_id === cur.region_id && u.is_lead && !cur.is_lead)));
    return { fallback: hasParent ? (sup ? sup.name + '（上级地区牵头单位，默认）' : '上级地区牵头单位（默认）') : null, units };
  }

  function actionForm(item, t) {
    const id = (n) => 'act-' + item.action + '-' + n;
    const wrap = (n, label, inner, hint) => '<div class="field" data-field="' + n + '"><label class="lbl" for="' + id(n) + '">' + label + '</label>' + inner +
      '<p class="field-msg" id="' + id(n) + '-msg" hidden></p>' + (hint ? '<p class="hint">' + hint + '</p>' : '') + '</div>';
    const mark = (req) => (req ? '<span class="req" aria-hidden="true">*</span>' : '<span class="opt">（可选）</span>');
    const ta = (n, what, o) => {
      o = o || {};
      return wrap(n, esc(what) + mark(o.required), '<textarea id="' + id(n) + '" name="' + n + '" rows="3" data-what="' + esc(what) + '" aria-describedby="' + id(n) + '-msg"' +
        (o.placeholder ? ' placeholder="' + esc(o.placeholder) + '"' : '') + (o.required ? ' required' : '') + '>' + esc(o.value || '') + '</textarea>', o.hint);
    };
    const opt = (v, s, on) => '<option value="' + esc(v) + '"' + (on ? ' selected' : '') + '>' + esc(s) + '</option>';
    const sel = (n, what, options, hint) => wrap(n, esc(what), '<select id="' + id(n) + '" name="' + n + '" data-what="' + esc(what) + '">' + options + '</select>', hint);
    const photos = () => '<div class="field photos" data-field="upload_ids"><span class="lbl">照片' + mark(false) + '</span>' +
      '<input type="file" id="' + id('photos') + '" accept="image/jpeg,image/png,image/webp" multiple aria-describedby="' + id('upload_ids') + '-msg">' +
      '<label class="pick" for="' + id('photos') + '">＋ 添加照片</label><span class="hint">JPEG、PNG 或 WebP，每张不超过10MB，最多9张</span>' +
      '<p class="field-msg" id="' + id('upload_ids') + '-msg" hidden></p><div class="thumbs picked"></div></div>';
    const req = t.assignment && t.assignment.escalation_request;
    let html;
    switch (item.action) {
      case 'register':
        html = sel('category', '诉求分类', lookups.categories.map((c) => opt(c.code, (c.parent_code ? '　' : '') + c.name, c.code === t.category)).join('')) +
          sel('kind', '诉求类型', Object.entries(KIND).map(([k, v]) => opt(k, v, k === t.kind)).join('')) +
          sel('priority', '紧急程度', opt('normal', '普通', t.priority !== 'urgent') + opt('urgent', '紧急', t.priority === 'urgent')) +
          ta('note', '登记备注');
        break;
      case 'dispatch':
        html = sel('unit_id', '承办单位', lookups.units.filter((u) => u.active !== false).map((u) => opt(u.id, u.name)).join('')) +
          sel('assignee_id', '承办人（可选）', opt('', '由单位指定')) + ta('note', '派单说明');
        break;
      case 'accept':
        html = ta('note', '签收说明', { hint: '签收即表示本单位接手办理（首办负责）。' });
        break;
      case 'return':
        html = ta('reason', '退单理由', { required: true, placeholder: '如：不属于本单位职责，应由县水利局办理', hint: '退单后工单回到派单员重新派单；理由仅内部可见，不向群众公开。' });
        break;
      case 'progress':
        html = ta('note', '办理进展', { required: true, hint: '群众可在进度查询页看到进展。' });
        break;
      case 'resolve':
        html = ta('result', '办理结果', { required: true, hint: '办结后将短信邀请群众评价，并进入回访。' });
        break;
      case 'escalate':
        if (item.label === '申请提级') {
          html = ta('reason', '提级理由', { required: true, hint: '申请由派单员审批；审批前工单仍由本单位办理。' });
        } else {
          const to = escalationOptions(t);
          html = sel('unit_id', '提级至', (to.fallback ? opt('', to.fallback) : '') + to.units.map((u) => opt(u.id, u.name)).join('')) +
            (req && req.pending
              ? ta('reason', '提级理由', { hint: '留空则沿用申请理由：' + esc(req.reason || '') })
              : ta('reason', '提级理由', { required: true }));
        }
        break;
      case 'escalate_refuse':
        html = ta('reason', '驳回理由', { required: true, hint: (req ? '申请理由：' + esc(req.reason || '') + '。' : '') + '驳回后工单仍由原单位办理。' });
        break;
      case 'urge':
        html = ta('note', '催办要求', { placeholder: '如：请今天下班前反馈进展', hint: '将以短信催告承办人（或承办单位干部），仅内部可见。' });
        break;
      case 'reopen':
        html = ta('reason', '重办理由', { required: true, hint: '重办后工单回到派单员重新派单。' });
        break;
      case 'close':
        html = ta('note', '归档说明');
        break;
      case 'signoff':
        html = ta('note', '会签意见', { hint: '以「' + esc(item.label) + '」身份会签；同一人只能代表一方。' });
        break;
      case 'refer':
        html = ta('reason', '下交理由', { required: true, hint: '仅限重复诉求：下交所在村的村民议事会（三老合议），由议事会作出决定。' });
        break;
      case 'council_decision':
        html = ta('decision', '议事会决定', { required: true }) +
          '<div class="field"><label class="check"><input type="checkbox" name="publish" checked> 向群众公开（在进度查询页显示）</label></div>';
        break;
      case 'merge':
        html = wrap('into', '合并到工单号' + mark(true), '<input type="text" id="' + id('into') + '" name="into" inputmode="numeric" autocomplete="off" required pattern="\\d{8}-\\d{6}"' +
          ' data-what="要合并到的工单号" data-pattern-msg="工单号格式应为「8位日期-6位序号」，如 20261123-000001" placeholder="如 20261123-000001" value="' + esc(t.repeat_of || '') + '" aria-describedby="' + id('into') + '-msg">',
        t.repeat_of ? '已填入本诉求重复的工单 ' + esc(t.repeat_of) + '。' : '本工单将作为重复诉求并入该工单。') + ta('note', '合并说明');
        break;
      case 'invalid':
        html = ta('reason', '作废理由', { required: true, placeholder: '如：骚扰电话、内容无法核实' });
        break;
      case 'return_visit':
        return sel('reached', '是否联系到', opt('true', '已联系到') + opt('false', '未联系到')) +
          sel('solved', '是否解决', opt('yes', '已解决') + opt('partly', '部分解决') + opt('no', '未解决')) +
          sel('satisfaction', '满意程度', opt('satisfied', '满意') + opt('basically_satisfied', '基本满意') + opt('dissatisfied', '不满意')) +
          sel('channel', '回访方式', opt('phone', '电话') + opt('visit', '上门') + opt('sms', '短信') + opt('wechat', '微信')) + ta('comment', '回访意见');
      default:
        html = ta('note', '备注');
    }
    // Every action may carry evidence: photos of the site, a signed form, the council's minutes.
    return html + photos();
  }

  async function assigneeOptions(form) {
    const unit = form.elements.unit_id;
    const who = form.elements.assignee_id;
    if (!unit || !who) return;
    const fill = async () => {
      const staff = await api('GET', '/api/v1/staff?per_page=100&unit_id=' + unit.value).catch(() => ({ items: [] }));
      who.innerHTML = '<option value="">由单位指定</option>' + staff.items.filter((s) => s.roles.includes('cadre')).map((s) => '<option value="' + s.id + '">' + esc(s.name) + '</option>').join('');
    };
    unit.addEventListener('change', fill);
    await fill();
  }

  // Photos picked for an action: checked here (type, size, count), uploaded one by one on submit.
  function photoPicker(form) {
    const input = $('input[type=file]', form);
    if (!input) return;
    form._photos = [];
    const box = $('.thumbs.picked', form);
    const render = () => {
      box.innerHTML = form._photos.map((p, i) => '<figure><img alt="待上传照片' + (i + 1) + '" src="' + p.url + '"><button type="button" class="remove" data-i="' + i + '" aria-label="移除照片' + (i + 1) + '">×</button></figure>').join('');
    };
    input.addEventListener('change', () => {
      clearMsg(form, 'upload_ids');
      const problems = [];
      for (const file of Array.from(input.files)) {
        if (!PHOTO_TYPES.includes(file.type)) problems.push('「' + file.name + '」不是 JPEG、PNG 或 WebP 照片');
        else if (file.size > MAX_PHOTO_BYTES) problems.push('「' + file.name + '」超过10MB');
        else if (form._photos.length >= MAX_PHOTOS) { problems.push('最多只能添加9张照片'); break; }
        else form._photos.push({ file, url: URL.createObjectURL(file), id: null });
      }
      input.value = '';
      render();
      if (problems.length) fieldMsg(form, 'upload_ids', problems.join('；'));
    });
    box.addEventListener('click', (ev) => {
      const b = ev.target.closest('button.remove');
      if (!b) return;
      const [p] = form._photos.splice(Number(b.dataset.i), 1);
      URL.revokeObjectURL(p.url);
      render();
    });
  }

  async function uploadPhotos(form, progress) {
    const list = form._photos || [];
    for (let i = 0; i < list.length; i++) {
      const p = list[i];
      if (p.id) continue; // uploaded on an earlier try of this form
      progress(i + 1, list.length);
      const fd = new FormData();
      fd.append('file', p.file, p.file.name || 'photo');
      try {
        p.id = (await api('POST', '/api/v1/uploads', fd)).upload_id;
      } catch (e) {
        throw { message: '第' + (i + 1) + '张照片上传失败：' + (e.message || ''), field: 'upload_ids' };
      }
    }
    return list.map((p) => p.id);
  }

  function fieldMsg(form, name, msg) {
    const box = $('[data-field="' + name + '"]', form);
    const el = form.elements[name];
    if (el && el.classList) { el.classList.add('bad'); el.setAttribute('aria-invalid', 'true'); }
    if (!box) return false;
    const p = $('.field-msg', box);
    p.textContent = msg; p.hidden = false;
    return true;
  }

  function clearMsg(form, name) {
    const box = $('[data-field="' + name + '"]', form);
    if (box) { const p = $('.field-msg', box); p.hidden = true; p.textContent = ''; }
    const el = form.elements[name];
    if (el && el.classList) { el.classList.remove('bad'); el.removeAttribute('aria-invalid'); }
  }

  /// Checks required fields and formats before anything is sent; messages in Chinese next to each field.
  function check(form) {
    let first = null;
    for (const el of form.elements) {
      if (!el.name || el.type === 'file' || el.type === 'checkbox') continue;
      const v = (el.value || '').trim();
      const what = el.dataset.what || '此项';
      let msg = '';
      if (el.required && !v) msg = (el.tagName === 'SELECT' ? '请选择' : '请填写') + what;
      else if (v && el.pattern && !new RegExp('^(?:' + el.pattern + ')$').test(v)) msg = el.dataset.patternMsg || what + '格式不正确';
      else if (el.tagName === 'TEXTAREA' && v.length > 2000) msg = what + '不能超过2000个字';
      if (msg) { fieldMsg(form, el.name, msg); first = first || el; }
    }
    if (first) first.focus();
    return !first;
  }

  function bodyOf(form, action) {
    const b = {};
    for (const el of form.elements) {
      if (!el.name || el.type === 'file') continue;
      if (el.type === 'checkbox') b[el.name] = el.checked;
      else if (el.value.trim() !== '') b[el.name] = el.tagName === 'TEXTAREA' || el.type === 'text' ? el.value.trim() : el.value;
    }
    for (const k of ['unit_id', 'assignee_id']) if (b[k]) b[k] = Number(b[k]);
    if (action === 'return_visit') b.reached = b.reached === 'true';
    return b;
  }

  async function act(no, item, form) {
    const err = $('.form-error', form);
    err.hidden = true;
    for (const el of form.elements) if (el.name) clearMsg(form, el.name);
    clearMsg(form, 'upload_ids');
    $$('#detail .success-msg').forEach((x) => x.remove());
    if (!check(form)) return;
    const body = bodyOf(form, item.action);
    if (item.party) body.party = item.party;
    const btn = $('button[type=submit]', form);
    const label = btn.textContent;
    btn.disabled = true;
    try {
      if ((form._photos || []).length) {
        body.upload_ids = await uploadPhotos(form, (i, n) => { btn.textContent = '正在上传照片 ' + i + '/' + n + '…'; });
      }
      btn.textContent = '正在提交…';
      if (item.action === 'return_visit') await api('POST', '/api/v1/tickets/' + no + '/return-visits', body);
      else await api('POST', '/api/v1/tickets/' + no + '/' + item.action, body);
      await loadDetail(no, doneText(item));
    } catch (e) {
      // A photo the server no longer takes (already used) is uploaded again on the next try.
      if (e.code === 'unknown_upload') (form._photos || []).forEach((p) => { p.id = null; });
      const field = e.field === 'file' ? 'upload_ids' : e.field;
      const near = field && fieldMsg(form, field, e.message);
      err.textContent = e.message || '提交失败';
      err.hidden = !!near;
      if (near && form.elements[field] && form.elements[field].focus) form.elements[field].focus();
      btn.disabled = false;
      btn.textContent = label;
    }
  }

  // Photos are read with the token: fetched as blobs, shown as thumbnails that open the full picture.
  const blobs = new Map();
  async function showUploads() {
    for (const img of $$('#detail img[data-src]')) {
      const srcs = [img.dataset.src, img.dataset.alt].filter(Boolean);
      let url = null;
      for (const src of srcs) {
        if (blobs.has(src)) { url = blobs.get(src); break; }
        const r = await fetch(src, { headers: { Authorization: 'Bearer ' + session.access_token } }).catch(() => null);
        if (r && r.ok) { url = URL.createObjectURL(await r.blob()); blobs.set(src, url); break; }
      }
      if (!url) { img.alt = '照片无法读取'; img.classList.add('broken'); continue; }
      img.src = url;
      const a = img.closest('a');
      if (a) a.href = url;
    }
  }

  async function loadDetail(no, flash) {
    const box = $('#detail');
    // Never show an order's old state while it loads (after an action the page stays as it was).
    if (!flash) box.innerHTML = '<p class="meta">正在打开工单…</p>';
    show('detail');
    await loadLookups();
    let t;
    try { t = await api('GET', '/api/v1/tickets/' + encodeURIComponent(no)); } catch (e) { box.innerHTML = '<p class="error">' + esc(e.message) + '</p>'; return; }
    const a = t.assignment;
    const reg = t.registration || {};
    const esc_req = a && a.escalation_request;
    const facts = [
      ['分类', t.category_name], ['类型', KIND[t.kind] || t.kind], ['来源', CHANNEL[t.channel] || t.channel], ['紧急程度', t.priority === 'urgent' ? '紧急' : '普通'],
      ['地区', (t.region_names || []).join(' / ')], ['地址', t.address || '—'], ['反映人', (t.requester.name || '群众') + ' ' + t.requester.phone],
      ['受理时间', time(reg.received_at || t.created_at)], ['登记时限', time(t.register_by) + (reg.late ? '（登记超时' + (reg.minutes != null ? '，用时' + reg.minutes + '分钟' : '') + '）' : '')],
    ];
    if (t.dispatch_by) facts.push(['派单时限', time(t.dispatch_by)]);
    if (t.visit_by) facts.push(['回访时限', time(t.visit_by)]);
    if (t.repeat_of) facts.push(['重复诉求', '与 ' + t.repeat_of + ' 相同']);
    if (t.repeat_count) facts.push(['重复次数', t.repeat_count]);
    if (t.merged_into) facts.push(['已合并至', t.merged_into]);
    if ((t.merged_from || []).length) facts.push(['合并进来的', t.merged_from.join('、')]);
    const deadline = t.deadline ? '<p class="due' + (t.deadline.late ? ' late' : '') + '" id="current-deadline">当前环节：' + esc(t.deadline.label) + '，时限 ' + esc(time(t.deadline.at)) + (t.deadline.late ? '（已逾期）' : '') + '</p>' : '';
    const uploadUrl = (uid) => ((t.uploads || []).find((u) => u.id === uid) || { url: '/api/v1/tickets/' + t.no + '/uploads/' + uid }).url;
    const thumb = (uid, alt) => '<a href="#" target="_blank" rel="noopener"><img alt="' + esc(alt) + '" data-upload="' + esc(uid) + '" data-src="' + esc(uploadUrl(uid)) + '" data-alt="/api/v1/uploads/' + esc(uid) + '"></a>';
    const extra = (e) => {
      const d = e.data || {};
      const out = [];
      if (e.action === 'escalate' && d.from_unit_name) out.push('由 ' + d.from_unit_name + ' 提级至 ' + d.unit_name + (d.approved_request ? '（批准申请）' : d.auto ? '（超时自动提级）' : ''));
      else if (d.unit_name) out.push('承办单位：' + d.unit_name);
      if (d.target_unit_name) out.push('申请提级至：' + d.target_unit_name);
      if (d.council) out.push('下交：' + d.council);
      if (d.party) out.push('会签方：' + (PARTY[d.party] || d.party));
      if (e.action === 'return_visit' && d.reached != null) {
        out.push(d.reached ? [VISIT_CHANNEL[d.channel], SATISFACTION[d.satisfaction], SOLVED[d.solved]].filter(Boolean).join(' · ') : '未联系到' + (VISIT_CHANNEL[d.channel] ? '（' + VISIT_CHANNEL[d.channel] + '）' : ''));
      }
      if (d.published === false) out.push('不向群众公开');
      return out.map((x) => '<br><span class="who">' + esc(x) + '</span>').join('') +
        ((d.upload_ids || []).length ? '<div class="thumbs small">' + d.upload_ids.map((u, i) => thumb(u, ACTION[e.action] + '照片' + (i + 1))).join('') + '</div>' : '');
    };
    const events = t.events.slice().reverse().map((e) => '<li data-seq="' + e.seq + '" data-action="' + esc(e.action) + '"><time>' + esc(time(e.at)) + '</time><strong>' + esc(ACTION[e.action] || e.action) + '</strong> <span class="who">' + esc(e.actor) +
      (e.from_status !== e.to_status ? ' · ' + esc(STATUS[e.from_status] || '—') + ' → ' + esc(STATUS[e.to_status]) : '') + '</span>' +
      (e.note ? '<br><span class="note">' + esc(e.note) + '</span>' : '') + extra(e) +
      '<span class="hash" title="前序哈希 ' + esc(e.prev_hash) + '">#' + e.seq + ' ' + esc(e.hash.slice(0, 16)) + '…</span></li>').join('');
    const actions = t.actions.map((x, i) => '<button type="button" data-i="' + i + '" data-action="' + esc(x.action) + '"' + (x.party ? ' data-party="' + esc(x.party) + '"' : '') + '>' +
      (x.party ? '会签（' + esc(x.label) + '）' : esc(x.label)) + '</button>').join('');
    box.innerHTML =
      '<div class="detail-grid"><div>' +
      '<section class="card"><p class="order-head"><span class="status" id="detail-status">' + esc(t.status_label) + '</span><span class="meta">工单 <b id="detail-no">' + esc(t.no) + '</b>' + (t.overdue ? ' <span class="tag red">超时</span>' : '') + '</span></p>' +
      '<p class="desc">' + esc(t.description) + '</p>' + deadline + '<dl class="facts">' + facts.map(([k, v]) => '<dt>' + esc(k) + '</dt><dd>' + esc(v) + '</dd>').join('') + '</dl></section>' +
      (a ? '<section class="card"><h2>' + (a.status === 'active' ? '当前承办：' : '承办单位：') + esc(a.unit.name) + (a.assignee ? ' · ' + esc(a.assignee.name) : '') + '</h2>' +
        (a.supervisor ? '<p class="meta">督办单位：' + esc(a.supervisor.name) + '</p>' : '') +
        '<ul class="deadlines">' + deadlineItems(a, a.status === 'active') + '</ul>' +
        (esc_req ? '<p class="' + (esc_req.pending ? 'error' : 'meta') + '">提级申请：' + esc(esc_req.reason || '') + (esc_req.pending ? '（待派单员审批）' : esc_req.decision === 'refused' ? '（已驳回）' : '（已批准）') + '</p>' : '') + '</section>' : '') +
      (t.signoffs ? '<section class="card"><h2>四方会签</h2><ul class="signoffs" id="signoffs">' + t.signoffs.map((s) => '<li class="' + (s.signed ? 'done' : '') + '" data-party="' + esc(s.party) + '">' + esc(s.label) + '<em>' + (s.signed ? '已签' : '未签') + '</em></li>').join('') + '</ul>' +
        (t.signoffs.some((s) => !s.signed) ? '<p class="meta">四方会签齐全后方可归档。</p>' : '') + '</section>' : '') +
      ((t.uploads || []).length ? '<section class="card"><h2>照片（' + t.uploads.length + '张）</h2><div class="thumbs" id="uploads">' + t.uploads.map((u, i) => thumb(u.id, '照片' + (i + 1))).join('') + '</div></section>' : '') +
      '</div><div>' +
      '<section class="card" id="work"><h2>办理</h2>' +
      // The confirmation of what was just done, where the form was.
      (flash ? '<p class="success-msg" role="status" id="flash">' + esc(flash) + '</p>' : '') + '<div class="actions" id="actions">' + (actions || '<p class="meta">您对该工单暂无可办理的操作。</p>') + '</div><div id="action-form"></div></section>' +
      '<section class="card"><h2>台账（' + t.events.length + '条）</h2><p><button type="button" class="secondary" id="verify">校验台账</button> <span id="verify-result" aria-live="polite"></span></p><ol class="timeline" id="timeline">' + events + '</ol></section>' +
      '</div></div>';
    $$('#actions button').forEach((b) => b.addEventListener('click', async () => {
      $$('#actions button').forEach((x) => x.classList.toggle('on', x === b));
      const item = t.actions[Number(b.dataset.i)];
      const holder = $('#action-form');
      const title = item.party ? '会签（' + item.label + '）' : item.label;
      holder.innerHTML = '<form class="act" id="act-' + esc(item.action) + '" novalidate><h3>' + esc(title) + '</h3>' + actionForm(item, t) +
        '<p class="error form-error" role="alert" hidden></p><p class="form-buttons"><button class="primary small" type="submit">确认' + esc(title) + '</button> <button class="secondary cancel" type="button">取消</button></p></form>';
      const form = $('form', holder);
      $('.cancel', form).addEventListener('click', () => { holder.innerHTML = ''; b.classList.remove('on'); b.focus(); });
      photoPicker(form);
      await assigneeOptions(form);
      const first = $('textarea, input[type=text], select', form);
      if (first && !matchMedia('(max-width: 760px)').matches) first.focus();
      form.addEventListener('submit', (ev) => { ev.preventDefault(); act(t.no, item, form); });
    }));
    $('#verify').addEventListener('click', async () => {
      const out = $('#verify-result');
      try {
        const v = await api('GET', '/api/v1/tickets/' + t.no + '/ledger/verify');
        out.className = v.ok ? 'verify-ok' : 'verify-bad';
        out.textContent = v.ok ? '台账完整（' + v.events + '条记录哈希链一致）' : '第' + v.broken_at + '条记录异常：' + (v.reason || '');
      } catch (e) { out.className = 'verify-bad'; out.textContent = e.message; }
    });
    if (flash) $('#flash').scrollIntoView({ block: 'nearest' });
    showUploads();
  }

  // --- registration of a call or a visit ---
  async function showNew() {
    show('new');
    await loadLookups();
  }

  $('#new-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = ev.target;
    const err = $('#new-error');
    err.hidden = true;
    $$('.bad', f).forEach((el) => el.classList.remove('bad'));
    const b = bodyOf(f);
    b.region_id = Number(b.region_id);
    if (b.received_at) b.received_at = new Date(b.received_at + ':00+08:00').toISOString();
    try {
      const r = await api('POST', '/api/v1/tickets', b);
      $('#new-done').innerHTML = '已登记，工单号 <a id="new-no" href="#/t/' + esc(r.ticket_no) + '">' + esc(r.ticket_no) + '</a>' + (r.registration_late ? '（登记已超过15分钟时限）' : '');
      $('#new-done').hidden = false;
      f.reset();
    } catch (e) {
      err.textContent = e.message; err.hidden = false;
      if (e.field && f.elements[e.field]) f.elements[e.field].classList.add('bad');
    }
  });

  // --- deadlines administration (read for all staff; admins edit through the API) ---
  async function showSla() {
    show('sla');
    await loadLookups();
    const name = (code) => (lookups.categories.find((c) => c.code === code) || {}).name || code;
    try {
      const p = await api('GET', '/api/v1/sla-policies');
      const h = (m) => (m % 1440 === 0 ? m / 1440 + '天' : m % 60 === 0 ? m / 60 + '小时' : m + '分钟');
      $('#policies').innerHTML = '<table class="policies"><thead><tr><th>名称</th><th>分类</th><th>紧急程度</th><th>计时</th><th>登记</th><th>派单</th><th>响应</th><th>首次反馈</th><th>办结</th><th>回访</th><th>会签</th></tr></thead><tbody>' +
        p.items.map((x) => '<tr><td>' + esc(x.name) + '</td><td>' + esc(x.category_code ? name(x.category_code) : '默认') + '</td><td>' + (x.priority === 'urgent' ? '紧急' : '普通') + '</td><td>' + (x.clock === 'workdays' ? '工作日' : '自然时') + '</td>' +
          [x.register_minutes, x.dispatch_minutes, x.respond_minutes, x.progress_minutes, x.resolve_minutes, x.visit_minutes].map((m) => '<td>' + h(m) + '</td>').join('') + '<td>' + (x.signoff_required ? '需要' : '—') + '</td></tr>').join('') + '</tbody></table>';
      const years = await api('GET', '/api/v1/calendar');
      const parts = [];
      for (const y of years.items) {
        const d = await api('GET', '/api/v1/calendar/' + y.year);
        parts.push('<h3>' + y.year + '年（全年工作日' + y.workdays + '天）</h3><p class="meta">' + esc(d.source || '') + '</p><ul>' +
          d.holidays.map((x) => '<li>' + esc(x.name) + '：' + esc(x.from) + ' 至 ' + esc(x.to) + '，共' + x.days + '天</li>').join('') + '</ul><p>调休上班：' + d.workdays.map((w) => esc(w.date)).join('、') + '</p>');
      }
      $('#calendar').innerHTML = parts.join('') || '<p class="meta">尚未录入节假日安排。</p>';
    } catch (e) { $('#policies').innerHTML = '<p class="error">' + esc(e.message) + '</p>'; }
  }

  // --- wiring ---
  $('#login-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const err = $('#login-error');
    err.hidden = true;
    try {
      const r = await fetch('/api/v1/auth/login', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: $('#username').value.trim(), password: $('#password').value }) });
      const data = await r.json();
      if (!r.ok) throw data.error;
      session = { access_token: data.access_token, refresh_token: data.refresh_token, staff: data.staff };
      store.setItem('minsheng.session', JSON.stringify(session));
      $('#password').value = '';
      route();
    } catch (e) { err.textContent = (e && e.message) || '登录失败'; err.hidden = false; }
  });
  $('#logout').addEventListener('click', logout);
  // On a phone the filters fold away until asked for.
  if (window.matchMedia('(max-width: 760px)').matches) $('#filter-box').open = false;
  $('#filters').addEventListener('submit', (ev) => { ev.preventDefault(); listPage = 1; loadList(); });
  $('#prev').addEventListener('click', () => { listPage = Math.max(1, listPage - 1); loadList(); });
  $('#next').addEventListener('click', () => { listPage += 1; loadList(); });
  $('#orders tbody').addEventListener('click', (ev) => {
    const tr = ev.target.closest('tr[data-no]');
    if (tr && !ev.target.closest('a')) location.hash = '#/t/' + tr.dataset.no;
  });

  function route() {
    if (!session) return show('login');
    const h = location.hash || '#/';
    const m = h.match(/^#\/t\/([0-9-]+)$/);
    if (m) return loadDetail(m[1]);
    if (h === '#/new') return showNew();
    if (h === '#/sla') return showSla();
    return loadList();
  }
  window.addEventListener('hashchange', route);
  route();
})();
