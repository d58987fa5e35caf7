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
  async function api(method, path, body) {
    const go = () => fetch(path, {
      method,
      headers: Object.assign({ Accept: 'application/json' }, body ? { 'Content-Type': 'application/json' } : {}, session ? { Authorization: 'Bearer ' + session.access_token } : {}),
      body: body ? JSON.stringify(body) : undefined,
    });
    let r = await go();
    if (r.status === 401 && session && session.refresh_token) {
      const rr = await fetch('/api/v1/auth/refresh', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ refresh_token: session.refresh_token }) });
      if (rr.ok) {
        const t = await rr.json();
        session.access_token = t.access_token;
        store.setItem('minsheng.session', JSON.stringify(session));
        r = await go();
      }
    }
    if (r.status === 401) { logout(); throw { message: '登录已过期，请重新登录' }; }
    if (r.status === 204) return null;
    const data = await r.json().catch(() => ({}));
    if (!r.ok) throw (data.error || { message: '请求失败（' + r.status + '）' });
    return data;
  }

  function has(role) { return session && (session.staff.roles.includes(role) || session.staff.roles.includes('admin')); }

  function logout() {
    session = null; lookups = null;
    store.removeItem('minsheng.session');
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

  function actionForm(item, t) {
    const ta = (name, ph, req) => '<div class="field"><textarea name="' + name + '" placeholder="' + esc(ph) + '"' + (req ? ' required' : '') + '></textarea></div>';
    const opt = (v, s) => '<option value="' + esc(v) + '">' + esc(s) + '</option>';
    const sel = (name, label, options) => '<div class="field"><label class="lbl">' + label + '</label><select name="' + name + '">' + options + '</select></div>';
    switch (item.action) {
      case 'register':
        return sel('category', '分类', lookups.categories.map((c) => '<option value="' + esc(c.code) + '"' + (c.code === t.category ? ' selected' : '') + '>' + esc(c.name) + '</option>').join('')) +
          sel('priority', '紧急程度', opt('normal', '普通') + opt('urgent', '紧急')) + ta('note', '备注（可选）');
      case 'dispatch':
        return sel('unit_id', '承办单位', lookups.units.filter((u) => u.active !== false).map((u) => opt(u.id, u.name)).join('')) +
          sel('assignee_id', '承办人（可选）', opt('', '由单位指定')) + ta('note', '派单说明（可选）');
      case 'escalate':
        return ta('reason', item.label === '申请提级' ? '提级理由（必填）' : '提级理由（审批申请时可不填）', item.label === '申请提级');
      case 'return': case 'reopen': case 'refer': case 'invalid': case 'escalate_refuse':
        return ta('reason', item.label + '理由（必填）', true);
      case 'progress': return ta('note', '办理进展（必填）', true);
      case 'resolve': return ta('result', '办理结果（必填）', true);
      case 'council_decision':
        return ta('decision', '议事会决定（必填）', true) + '<label class="check"><input type="checkbox" name="publish" checked> 向群众公开</label>';
      case 'merge': return '<div class="field"><input type="text" name="into" placeholder="合并到的工单号，如 20261123-000001" required></div>';
      case 'return_visit':
        return sel('reached', '是否联系到', opt('true', '已联系到') + opt('false', '未联系到')) +
          sel('solved', '是否解决', opt('yes', '已解决') + opt('partly', '部分解决') + opt('no', '未解决')) +
          sel('satisfaction', '满意程度', opt('satisfied', '满意') + opt('basically_satisfied', '基本满意') + opt('dissatisfied', '不满意')) +
          sel('channel', '回访方式', opt('phone', '电话') + opt('visit', '上门') + opt('sms', '短信') + opt('wechat', '微信')) + ta('comment', '回访意见（可选）');
      default: return ta('note', '备注（可选）');
    }
  }

  async function assigneeOptions(form) {
    const unit = form.unit_id;
    if (!unit) return;
    const fill = async () => {
      const staff = await api('GET', '/api/v1/staff?per_page=100&unit_id=' + unit.value).catch(() => ({ items: [] }));
      form.assignee_id.innerHTML = '<option value="">由单位指定</option>' + staff.items.filter((s) => s.roles.includes('cadre')).map((s) => '<option value="' + s.id + '">' + esc(s.name) + '</option>').join('');
    };
    unit.addEventListener('change', fill);
    await fill();
  }

  function bodyOf(form, action) {
    const b = {};
    for (const el of form.elements) {
      if (!el.name) continue;
      if (el.type === 'checkbox') b[el.name] = el.checked;
      else if (el.value !== '') b[el.name] = el.value;
    }
    for (const k of ['unit_id', 'assignee_id']) if (b[k]) b[k] = Number(b[k]);
    if (action === 'return_visit') b.reached = b.reached === 'true';
    return b;
  }

  async function act(no, item, form) {
    const err = $('.error', form);
    err.hidden = true;
    $$('.bad', form).forEach((el) => el.classList.remove('bad'));
    const body = bodyOf(form, item.action);
    if (item.party) body.party = item.party;
    try {
      if (item.action === 'return_visit') await api('POST', '/api/v1/tickets/' + no + '/return-visits', body);
      else await api('POST', '/api/v1/tickets/' + no + '/' + item.action, body);
      await loadDetail(no, '已' + item.label);
    } catch (e) {
      err.textContent = e.message; err.hidden = false;
      if (e.field && form.elements[e.field]) form.elements[e.field].classList.add('bad');
    }
  }

  async function showUploads(t) {
    for (const img of $$('.thumbs img[data-src]')) {
      const r = await fetch(img.dataset.src, { headers: { Authorization: 'Bearer ' + session.access_token } });
      if (r.ok) img.src = URL.createObjectURL(await r.blob());
    }
  }

  async function loadDetail(no, flash) {
    show('detail');
    await loadLookups();
    const box = $('#detail');
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
    const events = t.events.slice().reverse().map((e) => '<li><time>' + esc(time(e.at)) + '</time><strong>' + esc(ACTION[e.action] || e.action) + '</strong> <span class="who">' + esc(e.actor) +
      (e.from_status !== e.to_status ? ' · ' + esc(STATUS[e.from_status] || '—') + ' → ' + esc(STATUS[e.to_status]) : '') + '</span>' +
      (e.note ? '<br>' + esc(e.note) : '') + (e.data && e.data.unit_name ? '<br><span class="who">承办单位：' + esc(e.data.unit_name) + '</span>' : '') +
      '<br><span class="hash" title="前序哈希 ' + esc(e.prev_hash) + '">#' + e.seq + ' ' + esc(e.hash.slice(0, 16)) + '…</span></li>').join('');
    const actions = t.actions.map((x, i) => '<button type="button" data-i="' + i + '">' + esc(x.label) + (x.party ? '（会签）' : '') + '</button>').join('');
    box.innerHTML =
      (flash ? '<p class="success-msg" role="status">' + esc(flash) + '</p>' : '') +
      '<div class="detail-grid"><div>' +
      '<section class="card"><p class="order-head"><span class="status" id="detail-status">' + esc(t.status_label) + '</span><span class="meta">工单 <b id="detail-no">' + esc(t.no) + '</b>' + (t.overdue ? ' <span class="tag red">超时</span>' : '') + '</span></p>' +
      '<p class="desc">' + esc(t.description) + '</p>' + deadline + '<dl class="facts">' + facts.map(([k, v]) => '<dt>' + esc(k) + '</dt><dd>' + esc(v) + '</dd>').join('') + '</dl></section>' +
      (a ? '<section class="card"><h2>当前承办：' + esc(a.unit.name) + (a.assignee ? ' · ' + esc(a.assignee.name) : '') + '</h2>' +
        (a.supervisor ? '<p class="meta">督办单位：' + esc(a.supervisor.name) + '</p>' : '') +
        '<ul class="deadlines">' + deadlineItems(a, a.status === 'active') + '</ul>' +
        (esc_req ? '<p class="' + (esc_req.pending ? 'error' : 'meta') + '">提级申请：' + esc(esc_req.reason || '') + (esc_req.pending ? '（待派单员审批）' : esc_req.decision === 'refused' ? '（已驳回）' : '（已批准）') + '</p>' : '') + '</section>' : '') +
      (t.signoffs ? '<section class="card"><h2>四方会签</h2><p>' + t.signoffs.map((s) => esc(s.label) + (s.signed ? ' ✔' : ' ✘')).join('　') + '</p></section>' : '') +
      ((t.uploads || []).length ? '<section class="card"><h2>现场照片</h2><div class="thumbs">' + t.uploads.map((u) => '<img alt="现场照片" data-src="' + esc(u.url) + '">').join('') + '</div></section>' : '') +
      '</div><div>' +
      '<section class="card"><h2>办理</h2><div class="actions" id="actions">' + (actions || '<p class="meta">您对该工单暂无可办理的操作。</p>') + '</div><div id="action-form"></div></section>' +
      '<section class="card"><h2>台账（' + t.events.length + '条）</h2><p><button type="button" class="secondary" id="verify">校验台账</button> <span id="verify-result" aria-live="polite"></span></p><ol class="timeline" id="timeline">' + events + '</ol></section>' +
      '</div></div>';
    $$('#actions button').forEach((b) => b.addEventListener('click', async () => {
      $$('#actions button').forEach((x) => x.classList.toggle('on', x === b));
      const item = t.actions[Number(b.dataset.i)];
      const holder = $('#action-form');
      holder.innerHTML = '<form class="act" id="act-' + esc(item.action) + '">' + actionForm(item, t) + '<p class="error" role="alert" hidden></p><button class="primary small" type="submit">确认' + esc(item.label) + '</button></form>';
      const form = $('form', holder);
      await assigneeOptions(form);
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
    showUploads(t);
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
