// 民声直达 staff console: a small script over the JSON API. The server decides everything that
// matters (roles, scope, which actions are allowed); this page only shows it and sends forms.
'use strict';
(function () {
  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));
  const TZ = 'Asia/Shanghai';
  // Dates as 年-月-日 (2026-12-07), times to the minute, in the county's time zone.
  const fmt = new Intl.DateTimeFormat('zh-CN', { timeZone: TZ, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  const parts = (d) => Object.fromEntries(fmt.formatToParts(d).map((p) => [p.type, p.value]));
  const time = (s) => { if (!s) return '—'; const p = parts(new Date(s)); return p.year + '-' + p.month + '-' + p.day + ' ' + p.hour + ':' + p.minute; };
  const esc = (s) => String(s == null ? '' : s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));

  const STATUS = { submitted: '已提交', registered: '已登记', dispatched: '已派单', accepted: '已签收', in_progress: '办理中', resolved: '已办结', visited: '已回访', closed: '已归档', reopened: '重办', referred: '已下交', merged: '已合并', invalid: '无效', paused: '已挂起' };
  const ACTION = { submit: '提交诉求', register: '登记', dispatch: '派单', redirect: '改派', withdraw: '撤回', accept: '签收', return: '退单', progress: '反馈进展', resolve: '办结', escalate: '提级办理', escalate_request: '申请提级', escalate_refuse: '驳回提级申请', urge: '催办', reopen: '重办', close: '归档', signoff: '会签', refer: '申请下交', refer_approve: '批准下交', refer_refuse: '驳回下交申请', council_sign: '合议签字', council_decision: '合议决定', merge: '合并', invalid: '作废', return_visit: '回访', verify: '核查办结', proactive_link: '纳入未诉先办', pause_request: '申请挂起', pause_approve: '批准挂起', pause_refuse: '驳回挂起申请', resume: '恢复办理', assist_accept: '签收协办', assist_report: '协办反馈', assist_release: '解除协办' };
  const STEP = { respond: '签收', progress: '首次反馈', resolve: '办结' };
  const KIND = { consultation: '咨询', help: '求助', complaint: '投诉', report: '举报', suggestion: '建议', praise: '表扬' };
  const CHANNEL = { qr: '扫码', hotline: '热线', wechat: '微信', sms: '短信', visit: '来访 / 下访', mailbox: '信箱', open311: 'Open311', proactive: '未诉先办' };
  const LEVEL = { village: '村级', township: '乡镇级', county: '县级' };
  // The work list's tabs: what each asks the list for, and which count it shows.
  // k: the counts a tab adds up; one counted only up to 1,000 (listed in `capped`) shows as 1000+.
  const TABS = {
    all: { q: {}, k: ['total'] },
    submitted: { q: { status: 'submitted' }, k: ['submitted'] },
    registered: { q: { status: 'registered' }, k: ['registered'] },
    handling: { q: { status: 'dispatched,accepted,in_progress,reopened' }, k: ['dispatched', 'accepted', 'in_progress', 'reopened'] },
    late: { q: { late: 'true' }, k: ['late'] },
    paused: { q: { status: 'paused' }, k: ['paused'] },
    pause_pending: { q: { pause: 'pending' }, k: ['pause_pending'] },
    refer_pending: { q: { refer: 'pending' }, k: ['refer_pending'] },
    resolved: { q: { status: 'resolved' }, k: ['resolved'] },
  };
  const counted = (c, keys) => {
    const n = keys.reduce((sum, k) => sum + (c[k] || 0), 0);
    return keys.some((k) => (c.capped || []).includes(k)) ? n + '+' : n;
  };

  const api = Staff.api;
  const has = Staff.has;
  let lookups = null;
  let listPage = 1;
  let listTab = 'all';
  let listSort = '-created_at';
  let listSeq = 0;
  let unreachablePage = 1;
  // Filters from the address, put into the form once its choices are loaded.
  let pendingFilters = null;

  Staff.onLogout(() => {
    lookups = null;
    // The next person at this desk sees nothing of the last one's orders.
    $('#detail').innerHTML = '';
    $('#orders tbody').innerHTML = '';
    $('#unreachable tbody').innerHTML = '';
    show('login');
  });
  const logout = Staff.logout;

  function show(view) {
    // Every page is a section #{name}-view of <main>: the one asked for shows, the others hide.
    for (const el of $$('#app > section[id$="-view"]')) el.hidden = el.id !== view + '-view';
    closePicker();
    Staff.nav(view === 'detail' ? 'list' : view);
    // Nothing else opens until a temporary password is replaced.
    if (view === 'password') $('#nav').hidden = true;
  }

  // --- reference data for filters and forms ---
  const opt = (v, t, extra) => '<option value="' + esc(v) + '"' + (extra || '') + '>' + esc(t) + '</option>';

  /// Villages (and their micro-grids) grouped by township, for choosing where a request comes from.
  function regionOptions() {
    const by = (id) => lookups.regions.find((r) => r.id === id);
    // In the order they were set up (ids), not the text order of their paths ("/1/10/" < "/1/2/").
    const of = (level, parent) => lookups.regions.filter((r) => r.level === level && (parent == null || r.parent_id === parent)).sort((a, b) => a.id - b.id);
    const townships = of('township');
    const villages = (t) => of('village', t.id);
    const grids = (v) => of('grid', v.id);
    const group = (label, vs) => '<optgroup label="' + esc(label) + '">' + vs.map((v) => opt(v.id, v.name) +
      grids(v).map((g) => opt(g.id, v.name + ' · ' + g.name)).join('')).join('') + '</optgroup>';
    const loose = lookups.regions.filter((r) => r.level === 'village' && !townships.some((t) => t.id === r.parent_id));
    return townships.map((t) => group(t.name, villages(t))).join('') + (loose.length ? group((by(loose[0].parent_id) || {}).name || '其他', loose) : '');
  }

  /// Categories grouped under their parent; a parent may be chosen itself.
  function categoryOptions(selected) {
    const top = lookups.categories.filter((c) => !c.parent_code);
    return top.map((p) => '<optgroup label="' + esc(p.name) + '">' + opt(p.code, p.name + '（其他）', p.code === selected ? ' selected' : '') +
      lookups.categories.filter((c) => c.parent_code === p.code).map((c) => opt(c.code, c.name, c.code === selected ? ' selected' : '')).join('') + '</optgroup>').join('');
  }

  // One load at a time: a second caller while the first is under way (the work list, then at once
  // the registration form) waits for the same answer. Two loads each ended by resetting the
  // registration form, so the second wiped what the operator had been told meanwhile.
  let lookupsLoading = null;
  function loadLookups() {
    if (lookups) return Promise.resolve(lookups);
    if (!lookupsLoading) lookupsLoading = fetchLookups().finally(() => { lookupsLoading = null; });
    return lookupsLoading;
  }

  async function fetchLookups() {
    const [regions, units, cats] = await Promise.all([
      api('GET', '/api/v1/regions?per_page=100'), api('GET', '/api/v1/units?per_page=100'), api('GET', '/api/v1/categories'),
    ]);
    lookups = { regions: regions.items, units: units.items, categories: cats.items };
    const f = $('#filters');
    f.status.innerHTML = opt('', '全部') + Object.entries(STATUS).map(([k, v]) => opt(k, v)).join('');
    f.region_id.innerHTML = opt('', '全部') + lookups.regions.filter((r) => r.level !== 'grid').map((r) => opt(r.id, (r.level === 'village' ? '　' : '') + r.name)).join('');
    f.unit_id.innerHTML = opt('', '全部') + lookups.units.map((u) => opt(u.id, u.name)).join('');
    f.category.innerHTML = opt('', '全部') + lookups.categories.filter((c) => !c.parent_code).map((c) => opt(c.code, c.name)).join('');
    resetNewForm();
    return lookups;
  }

  // --- the work list: tabs with counts, filters, sortable columns ---
  function dueCell(row) {
    const d = row.deadline;
    if (!d) return '—';
    return '<span class="due' + (d.late ? ' late' : '') + '">' + esc(d.label) + ' ' + esc(time(d.at)) + (d.late ? ' 已逾期' : '') + '</span>';
  }

  /// Puts filters given in the address into the form: every field not given is cleared.
  function setFilters(params) {
    for (const el of $('#filters').elements) {
      if (!el.name) continue;
      if (el.type === 'checkbox') el.checked = params.get(el.name) === el.value;
      else if (el.tagName === 'SELECT' || el.tagName === 'INPUT') el.value = params.get(el.name) || '';
    }
    // On a phone the folded filters open, so that what the list is narrowed to shows.
    if (Array.from(params.keys()).length) $('#filter-box').open = true;
  }

  /// The filters of the form (the tab and the sort are added by the caller).
  function filterParams() {
    const params = new URLSearchParams();
    for (const el of $('#filters').elements) {
      if (!el.name) continue;
      if (el.type === 'checkbox') { if (el.checked) params.set(el.name, el.value); } else if (el.value.trim()) params.set(el.name, el.value.trim());
    }
    return params;
  }

  function showTabs(counts) {
    $$('#tabs button').forEach((b) => {
      const on = b.dataset.tab === listTab;
      b.classList.toggle('on', on);
      b.setAttribute('aria-selected', on ? 'true' : 'false');
      const n = counts ? counted(counts, TABS[b.dataset.tab].k) : null;
      $('.count', b).textContent = n == null ? '' : String(n);
      b.classList.toggle('has', !!n);
    });
  }

  function showSort() {
    const key = listSort.replace(/^-/, '');
    $$('#orders th[data-sort]').forEach((th) => {
      th.setAttribute('aria-sort', th.dataset.sort === key ? (listSort.startsWith('-') ? 'descending' : 'ascending') : 'none');
    });
  }

  async function loadList() {
    // Only the answer to the latest request is shown (a quick second click must not be overwritten).
    const seq = ++listSeq;
    $('#orders').setAttribute('aria-busy', 'true');
    show('list');
    await loadLookups();
    if (pendingFilters) {
      setFilters(pendingFilters);
      pendingFilters = null;
    }
    if (!checkDates()) { $('#orders').setAttribute('aria-busy', 'false'); return; }
    const base = filterParams();
    const params = new URLSearchParams(base);
    const tab = TABS[listTab].q;
    for (const k of Object.keys(tab)) params.set(k, tab[k]);
    params.set('sort', listSort);
    params.set('page', listPage);
    showTabs(null);
    showSort();
    const tbody = $('#orders tbody');
    try {
      // The tabs count the same filters, whatever tab is open.
      const [data, counts] = await Promise.all([api('GET', '/api/v1/tickets?' + params), api('GET', '/api/v1/tickets/counts?' + base)]);
      if (seq !== listSeq) return;
      showTabs(counts);
      tbody.innerHTML = data.items.map((r) => {
        const late = r.overdue || (r.deadline && r.deadline.late);
        const tags = (r.overdue ? '<span class="tag red">超时</span>' : '') + (r.escalation_pending ? '<span class="tag amber">待审批提级</span>' : '') +
          (r.priority === 'urgent' ? '<span class="tag red">紧急</span>' : '') + (r.repeat_count > 0 ? '<span class="tag">重复' + r.repeat_count + '次</span>' : '');
        return '<tr data-no="' + esc(r.no) + '" class="' + (late ? 'late' : '') + (r.overdue ? ' overdue' : '') + '">' +
          '<td data-label="工单号"><a href="#/t/' + esc(r.no) + '">' + esc(r.no) + '</a>' + tags + '</td>' +
          '<td data-label="状态">' + esc(r.status_label) + '</td>' +
          '<td data-label="内容">' + esc(r.category_name || r.category) + '<span class="summary">' + esc(r.summary) + '</span></td>' +
          '<td data-label="地区">' + esc(r.region_name || '') + '</td>' +
          '<td data-label="承办单位">' + esc(r.unit_name || '—') + '</td>' +
          '<td data-label="当前时限">' + dueCell(r) + '</td>' +
          '<td data-label="受理时间" class="when">' + esc(time(r.created_at)) + '</td></tr>';
      }).join('') || '<tr><td colspan="7">没有符合条件的工单</td></tr>';
      // A large result's total is counted up to 10,000 only (total_capped): a lower bound, the
      // pages go on while full ones come.
      const pages = Math.max(1, Math.ceil(data.total / data.per_page));
      const more = data.total_capped ? '+' : '';
      $('#list-summary').textContent = '共 ' + data.total + more + ' 件' + (counts.overdue ? '，其中超时未办 ' + counted(counts, ['overdue']) + ' 件' : '');
      $('#page-no').textContent = '第 ' + data.page + ' / ' + pages + more + ' 页';
      $('#prev').disabled = data.page <= 1;
      $('#next').disabled = data.total_capped ? data.items.length < data.per_page : data.page >= pages;
    } catch (e) {
      if (seq === listSeq) tbody.innerHTML = '<tr><td colspan="7" class="error">' + esc(e.message) + '</td></tr>';
    } finally {
      if (seq === listSeq) $('#orders').setAttribute('aria-busy', 'false');
    }
  }

  // --- a date picker in Chinese (年-月-日, weeks from Monday), whatever the browser's language ---
  const WEEK = ['一', '二', '三', '四', '五', '六', '日'];
  const pad = (n) => String(n).padStart(2, '0');
  const ymd = (y, m, d) => y + '-' + pad(m) + '-' + pad(d);
  const today = () => { const p = parts(new Date()); return ymd(p.year, +p.month, +p.day); };
  let picker = null; // { input, year, month }

  function validDate(v) {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v);
    if (!m) return false;
    const d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3]));
    return d.getUTCFullYear() === +m[1] && d.getUTCMonth() === +m[2] - 1 && d.getUTCDate() === +m[3];
  }

  function drawPicker() {
    const box = $('#datepicker');
    const { year, month, input } = picker;
    const first = new Date(Date.UTC(year, month - 1, 1));
    const lead = (first.getUTCDay() + 6) % 7;
    const days = new Date(Date.UTC(year, month, 0)).getUTCDate();
    const cells = [];
    for (let i = 0; i < lead; i++) cells.push('<td></td>');
    for (let d = 1; d <= days; d++) {
      const v = ymd(year, month, d);
      const cls = [v === today() ? 'today' : '', v === input.value.slice(0, 10) ? 'sel' : ''].join(' ').trim();
      cells.push('<td><button type="button" data-date="' + v + '"' + (cls ? ' class="' + cls + '"' : '') + ' aria-label="' + year + '年' + month + '月' + d + '日">' + d + '</button></td>');
    }
    while (cells.length % 7) cells.push('<td></td>');
    const rows = [];
    for (let i = 0; i < cells.length; i += 7) rows.push('<tr>' + cells.slice(i, i + 7).join('') + '</tr>');
    box.innerHTML = '<div class="dp-head"><button type="button" data-dp="prev" aria-label="上个月">‹</button><span class="dp-title">' + year + '年' + month + '月</span>' +
      '<button type="button" data-dp="next" aria-label="下个月">›</button></div>' +
      '<table class="dp-grid"><thead><tr>' + WEEK.map((w) => '<th>' + w + '</th>').join('') + '</tr></thead><tbody>' + rows.join('') + '</tbody></table>' +
      '<div class="dp-foot"><button type="button" data-dp="today">今天</button><button type="button" data-dp="clear">清除</button><button type="button" data-dp="close">关闭</button></div>';
  }

  function openPicker(input) {
    const typed = input.value.slice(0, 10);
    const v = validDate(typed) ? typed : today();
    picker = { input, year: +v.slice(0, 4), month: +v.slice(5, 7) };
    drawPicker();
    const box = $('#datepicker');
    const r = input.getBoundingClientRect();
    box.style.left = Math.round(window.scrollX + r.left) + 'px';
    box.style.top = Math.round(window.scrollY + r.bottom + 4) + 'px';
    box.hidden = false;
  }

  function closePicker() {
    picker = null;
    const box = document.getElementById('datepicker');
    if (box) box.hidden = true;
  }

  function pick(value) {
    const input = picker.input;
    // A date and time field keeps its time (or takes the time now) with the day picked.
    if (value && input.classList.contains('datetime')) {
      const kept = /\d{2}:\d{2}$/.exec(input.value);
      const p = parts(new Date());
      value += ' ' + (kept ? kept[0] : p.hour + ':' + p.minute);
    }
    input.value = value;
    closePicker();
    clearMsg(input.form, input.name);
    input.focus();
  }

  $('#datepicker').addEventListener('mousedown', (ev) => ev.preventDefault()); // keep the input's focus
  $('#datepicker').addEventListener('click', (ev) => {
    const b = ev.target.closest('button');
    if (!b || !picker) return;
    if (b.dataset.date) return pick(b.dataset.date);
    const dp = b.dataset.dp;
    if (dp === 'prev' || dp === 'next') {
      picker.month += dp === 'prev' ? -1 : 1;
      if (picker.month < 1) { picker.month = 12; picker.year -= 1; }
      if (picker.month > 12) { picker.month = 1; picker.year += 1; }
      drawPicker();
    } else if (dp === 'today') pick(today());
    else if (dp === 'clear') pick('');
    else closePicker();
  });
  $$('input.date, input.datetime').forEach((input) => {
    input.addEventListener('focus', () => openPicker(input));
    input.addEventListener('click', () => { if (!picker || picker.input !== input) openPicker(input); });
    input.addEventListener('keydown', (ev) => { if (ev.key === 'Escape') closePicker(); });
    input.addEventListener('blur', () => setTimeout(() => { if (picker && picker.input === input && document.activeElement !== input) closePicker(); }, 150));
  });
  document.addEventListener('click', (ev) => {
    // A click in the picker may have redrawn it (next month): its target is then detached.
    if (picker && ev.target.isConnected && !ev.target.closest('#datepicker') && ev.target !== picker.input) closePicker();
  });

  /// The filter dates, checked before anything is asked: messages next to the fields.
  function checkDates() {
    const f = $('#filters');
    let ok = true;
    for (const name of ['from', 'to']) {
      const el = f.elements[name];
      clearMsg(f, name);
      const v = el.value.trim();
      if (v && !validDate(v)) { fieldMsg(f, name, el.dataset.patternMsg); ok = false; }
    }
    const from = f.elements.from.value.trim();
    const to = f.elements.to.value.trim();
    if (ok && from && to && from > to) { fieldMsg(f, 'to', '结束日期不能早于开始日期'); ok = false; }
    return ok;
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
  const URGE_TYPE = { phone: '电话催办', written: '书面催办', onsite: '现场督办', interview: '约谈' };
  const URGE_LEVEL = { 1: '一般催办', 2: '重点催办', 3: '挂牌督办' };
  const VISIT_CHANNEL = { phone: '电话回访', visit: '上门回访', sms: '短信回访', wechat: '微信回访' };

  function doneText(item) {
    switch (item.action) {
      case 'signoff': return '已会签（' + item.label + '）';
      case 'escalate': return item.label === '申请提级' ? '已申请提级，等待派单员审批' : item.label === '批准提级' ? '已批准提级' : '已提级';
      case 'return': return '已退单，工单回到派单员';
      case 'redirect': return '已改派，原承办单位已收到短信通知';
      case 'withdraw': return '已撤回，工单回到待派单';
      case 'urge': return '已催办，短信已发给承办人';
      case 'reopen': return '已发起重办，工单回到派单员';
      case 'refer': return '已申请下交，等待领导签批';
      case 'refer_approve': return '已批准下交，工单交由村民议事会合议';
      case 'refer_refuse': return '已驳回下交申请';
      case 'council_sign': return '已记录签字';
      case 'council_decision': return '已记录合议决定';
      case 'pause_request': return '已申请挂起，等待领导审批';
      case 'pause_approve': return '已批准挂起，计时暂停，承办单位已收到短信';
      case 'pause_refuse': return '已驳回挂起申请，承办单位已收到短信';
      case 'resume': return '已恢复办理，时限已顺延挂起天数';
      case 'assist_accept': return '已签收协办任务';
      case 'assist_report': return '已反馈协办情况，主办单位可见';
      case 'assist_release': return '已解除协办，该单位已收到短信通知';
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

  /// A unit to give an order to: a search box over a list grouped by level (村级、乡镇级、县级),
  /// `selected` chosen, the suggested unit marked.
  function unitPicker(id, wrap, n, what, selected, placeholder, suggested, hint) {
    const units = lookups.units.filter((u) => u.active !== false);
    const option = (u) => '<option value="' + u.id + '"' + (u.id === selected ? ' selected' : '') + '>' + esc(u.name) +
      (suggested && u.id === suggested.id ? '（建议）' : '') + '</option>';
    const groups = ['village', 'township', 'county'].concat(units.map((u) => u.level).filter((l, i, a) => !LEVEL[l] && a.indexOf(l) === i));
    const options = groups.map((l) => {
      const list = units.filter((u) => u.level === l);
      return list.length ? '<optgroup label="' + esc(LEVEL[l] || l) + '">' + list.map(option).join('') + '</optgroup>' : '';
    }).join('');
    return wrap(n, esc(what) + '<span class="req" aria-hidden="true">*</span>',
      '<input type="search" class="unit-search" id="' + id(n) + '-search" placeholder="输入名称筛选单位" aria-label="筛选' + esc(what) + '" autocomplete="off">' +
      '<select id="' + id(n) + '" name="' + n + '" required data-what="' + esc(what) + '" aria-describedby="' + id(n) + '-msg">' +
      (placeholder ? '<option value="">' + esc(placeholder) + '</option>' : '') + options + '</select>' +
      '<p class="meta unit-none" hidden>没有名称相符的单位</p>', hint);
  }

  /// Typing in a unit picker's search box keeps the units whose name contains the text.
  function unitSearch(form) {
    const box = $('input.unit-search', form);
    if (!box) return;
    const select = form.elements.unit_id;
    box.addEventListener('input', () => {
      const q = box.value.trim();
      let first = null;
      for (const o of Array.from(select.options)) {
        if (!o.value) continue;
        o.hidden = !!q && !o.textContent.includes(q);
        if (!o.hidden && !first) first = o;
      }
      for (const g of Array.from(select.querySelectorAll('optgroup'))) g.hidden = !Array.from(g.children).some((o) => !o.hidden);
      $('.unit-none', form).hidden = !!first;
      const cur = select.options[select.selectedIndex];
      if (first && (!cur || cur.hidden || !cur.value) && q) {
        select.value = first.value;
        select.dispatchEvent(new Event('change'));
      }
    });
  }

  /// 联合办理: the assisting units of a dispatch, ticked in a list that opens on demand.
  function assistingPicker(id) {
    const units = lookups.units.filter((u) => u.active !== false);
    return '<details class="field assisting" data-field="assisting_unit_ids" id="' + id('assisting') + '"><summary>联合办理：添加协办单位（可选，最多5个）</summary>' +
      '<div class="checks">' + units.map((u) => '<label class="check"><input type="checkbox" name="assisting_unit_ids" value="' + u.id + '"> ' + esc(u.name) + '</label>').join('') + '</div>' +
      '<p class="field-msg" id="' + id('assisting_unit_ids') + '-msg" hidden></p>' +
      '<p class="hint">每个协办单位各自收到短信和办理链接、各自计时并计入本单位的响应率；全部协办单位反馈后主办单位方可办结。</p></details>';
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
      case 'dispatch': {
        const sug = t.suggested_unit;
        html = unitPicker(id, wrap, 'unit_id', '承办单位', sug ? sug.id : null, null, sug,
          sug ? '按诉求分类「' + esc(t.category_name) + '」的默认层级（' + esc(LEVEL[sug.level] || sug.level) + '）建议派给：' + esc(sug.name) + '。' : '') +
          sel('assignee_id', '承办人（可选）', opt('', '由单位指定')) + assistingPicker(id) + ta('note', '派单说明');
        break;
      }
      case 'redirect': {
        const cur = t.assignment ? t.assignment.unit.name : '';
        html = unitPicker(id, wrap, 'unit_id', '改派至', null, '请选择改派单位', t.suggested_unit,
          '当前承办：' + esc(cur) + '。也可改派给同一单位的其他承办人。') +
          sel('assignee_id', '承办人（可选）', opt('', '由单位指定')) +
          ta('reason', '改派理由', { required: true, placeholder: '如：该路段属镇里管护，应由镇政府办理', hint: '承办单位签收前才能改派。原承办单位将收到短信通知，新的派单重新计时；理由仅内部可见。' });
        break;
      }
      case 'withdraw':
        html = ta('reason', '撤回理由', { required: true, placeholder: '如：分类有误，需要重新研判', hint: '撤回后工单回到待派单，派单时限重新计算；原承办单位将收到短信通知。理由仅内部可见。' });
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
        html = ta('result', '办理结果', { required: true, hint: t.channel === 'proactive'
          ? '未诉先办工单没有诉求人：办结后将短信告知关联诉求的群众（同一号码一条），再由派单员或纪委核查归档。'
          : '办结后将短信邀请群众评价，并进入回访。' });
        break;
      case 'verify':
        html = ta('note', '核查情况', { placeholder: '如：现场查看，全村供水已恢复正常', hint: '未诉先办工单没有诉求人，不回访，由派单员或纪委现场核查；无需会签的，核查后自动归档。核查发现未解决的，请选「重办」。' });
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
      case 'pause_request': {
        const min = dayAfter(1);
        html = ta('reason', '挂起理由', { required: true, placeholder: '如：需等秋收后机械进场施工', hint: '挂起须经领导批准；批准后停止计时，恢复办理时各项时限顺延挂起天数。已超时的工单不能挂起。' }) +
          wrap('resume_on', '预计恢复办理日期' + mark(true), '<input type="date" id="' + id('resume_on') + '" name="resume_on" required data-what="预计恢复办理日期" min="' + min + '" max="' + dayAfter(180) + '" value="' + dayAfter(7) + '" aria-describedby="' + id('resume_on') + '-msg">',
            '到期当天8:00自动恢复计时；最长180天。');
        break;
      }
      case 'pause_approve': {
        const p = t.assignment && t.assignment.pause;
        html = (p ? '<p class="meta" id="pause-ask">申请理由：' + esc(p.reason || '') + '；预计恢复：' + esc(p.resume_on || '') + '</p>' : '') +
          ta('note', '审批意见', { hint: '批准后工单挂起，计时暂停到预计恢复日期8:00；群众可在进度查询页看到挂起原因和恢复日期（不显示姓名）。' });
        break;
      }
      case 'pause_refuse':
        html = ta('reason', '驳回理由', { required: true, hint: '驳回后承办单位按原时限办理，并收到短信通知。' });
        break;
      case 'assist_accept':
        html = ta('note', '签收说明', { hint: '签收贵单位承担的协办任务；工单由主办单位牵头办理和办结。' });
        break;
      case 'assist_report':
        html = ta('note', '协办情况', { required: true, placeholder: '贵单位做了什么、结果如何', hint: '反馈后贵单位的协办任务完成；全部协办单位反馈后主办单位方可办结。' });
        break;
      case 'assist_release': {
        const open = (t.assisting || []).filter((p) => p.status === 'active');
        html = sel('unit_id', '解除哪个协办单位', open.map((p) => opt(p.unit.id, p.unit.name)).join('')) +
          ta('reason', '解除理由', { required: true, placeholder: '如：经核实不涉及该单位职责', hint: '解除后该单位无需再办理并收到短信通知；主办单位不再等待其反馈。' });
        break;
      }
      case 'resume':
        html = ta('note', '恢复说明', { placeholder: '如：机械已到位，恢复施工', hint: '恢复后各项时限顺延实际挂起的时间；群众可看到恢复办理。' });
        break;
      case 'urge':
        html = sel('type', '催办方式', Object.keys(URGE_TYPE).map((k, i) => opt(k, URGE_TYPE[k], i === 0)).join('')) +
          sel('level', '催办级别', Object.keys(URGE_LEVEL).map((k, i) => opt(k, URGE_LEVEL[k], i === 0)).join('')) +
          ta('note', '催办要求', { placeholder: '如：请今天下班前反馈进展', hint: '将以短信催告承办人（或承办单位干部），仅内部可见；书面催办可打印催办单。' });
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
        html = ta('reason', '下交理由', { required: true, hint: '仅限重复诉求：下交所在村的村民议事会（三老合议）。须经领导签批后生效，签批前工单仍按原流程办理。' });
        break;
      case 'refer_approve': {
        const r = t.council && t.council.refer_request;
        html = (r ? '<p class="meta" id="refer-ask">下交理由：' + esc(r.reason || '') + (r.requested_by ? '（' + esc(r.requested_by.name) + ' 申请）' : '') + '</p>' : '') +
          ta('note', '签批意见', { hint: '批准后工单下交' + esc(t.council ? t.council.village.name : '') + '村民议事会，原承办单位不再办理。' });
        break;
      }
      case 'refer_refuse':
        html = ta('reason', '驳回理由', { required: true, hint: '驳回后工单按原流程继续办理。' });
        break;
      case 'council_sign': {
        const c = t.council || { members: [], signed: [] };
        const signed = new Set((c.signed || []).map((s) => s.member_id));
        const free = (c.members || []).filter((m) => !signed.has(m.id));
        html = sel('member_id', '签字成员', free.map((m) => opt(m.id, m.name + '（' + m.title + '）')).join('') || opt('', '没有可签字的在册成员')) +
          ta('note', '签字意见', { hint: '每位成员的签字单独记入台账；可附签字的会议记录照片。' });
        break;
      }
      case 'council_decision': {
        const c = t.council || { signed: [], min_members: 3 };
        const n = (c.signed || []).length;
        html = '<p class="meta" id="council-signed">已签字：' + (n ? c.signed.map((s) => esc(s.name) + '（' + esc(s.title) + '）').join('、') : '无') + '；合议至少需要 ' + c.min_members + ' 名成员。</p>' +
          ta('decision', '议事会决定', { required: true }) +
          '<div class="field"><label class="check"><input type="checkbox" name="publish" checked> 公开（进度查询页和本村合议公告，不显示诉求人姓名和电话）</label></div>' +
          '<div class="field"><label class="check"><input type="checkbox" name="notify_cadres"> 短信告知本村干部</label></div>';
        break;
      }
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
      if (!unit.value) { who.innerHTML = '<option value="">由单位指定</option>'; return; }
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
      if (el.name === 'assisting_unit_ids') {
        if (el.checked) (b.assisting_unit_ids = b.assisting_unit_ids || []).push(Number(el.value));
        continue;
      }
      if (el.type === 'checkbox') b[el.name] = el.checked;
      else if (el.value.trim() !== '') b[el.name] = el.tagName === 'TEXTAREA' || el.type === 'text' ? el.value.trim() : el.value;
    }
    for (const k of ['unit_id', 'assignee_id', 'level', 'member_id']) if (b[k]) b[k] = Number(b[k]);
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

  // A written urge's 催办单 is read with the token and opened as a blob in a new tab.
  document.addEventListener('click', async (ev) => {
    const a = ev.target.closest && ev.target.closest('a.urge-pdf');
    if (!a) return;
    ev.preventDefault();
    const w = window.open('', '_blank');
    const r = await fetch(a.dataset.pdf, { headers: { Authorization: 'Bearer ' + Staff.token() } }).catch(() => null);
    if (!r || !r.ok) { if (w) w.close(); alert('催办单无法打开'); return; }
    const url = URL.createObjectURL(await r.blob());
    if (w) w.location = url; else window.location = url;
  });

  // Photos are read with the token: fetched as blobs, shown as thumbnails that open the full picture.
  const blobs = new Map();
  async function showUploads() {
    // Voice notes: fetched with the token like photos, played in place.
    for (const au of $$('#detail audio[data-src]')) {
      const src = au.dataset.src;
      if (!blobs.has(src)) {
        const r = await fetch(src, { headers: { Authorization: 'Bearer ' + Staff.token() } }).catch(() => null);
        if (!r || !r.ok) { au.replaceWith(Object.assign(document.createElement('span'), { className: 'meta', textContent: '语音无法读取' })); continue; }
        blobs.set(src, URL.createObjectURL(await r.blob()));
      }
      au.src = blobs.get(src);
    }
    for (const img of $$('#detail img[data-src]')) {
      const srcs = [img.dataset.src, img.dataset.alt].filter(Boolean);
      let url = null;
      for (const src of srcs) {
        if (blobs.has(src)) { url = blobs.get(src); break; }
        const r = await fetch(src, { headers: { Authorization: 'Bearer ' + Staff.token() } }).catch(() => null);
        if (r && r.ok) { url = URL.createObjectURL(await r.blob()); blobs.set(src, url); break; }
      }
      if (!url) { img.alt = '照片无法读取'; img.classList.add('broken'); continue; }
      img.src = url;
      const a = img.closest('a');
      if (a) a.href = url;
    }
  }

  /// The local date `n` days from today, as a date input wants it (YYYY-MM-DD).
  function dayAfter(n) {
    const d = new Date(Date.now() + n * 86400000);
    return d.getFullYear() + '-' + String(d.getMonth() + 1).padStart(2, '0') + '-' + String(d.getDate()).padStart(2, '0');
  }

  /// 挂起 on the assignment card: a pending request, the running pause, or the paused days so far.
  function pauseLine(a) {
    const p = a.pause;
    const days = a.paused_minutes ? '累计挂起 ' + (Math.round(a.paused_minutes / 144) / 10) + ' 天' : '';
    if (!p) return days ? '<p class="meta" id="pause-line">' + esc(days) + '</p>' : '';
    let text;
    if (p.pending) text = '挂起申请：' + (p.reason || '') + '；预计恢复 ' + (p.resume_on || '') + '（待领导审批）';
    else if (p.paused_at) text = '挂起中：' + (p.reason || '') + '；' + time(p.paused_at) + ' 起暂停计时，' + time(p.pause_until) + ' 自动恢复' + (p.decided_by ? '（' + p.decided_by.name + ' 批准）' : '');
    else if (p.decision === 'refused') text = '挂起申请已驳回' + (p.decided_by ? '（' + p.decided_by.name + '）' : '');
    else text = '';
    text = [text, days].filter(Boolean).join('；');
    return text ? '<p class="' + (p.pending ? 'error' : 'meta') + '" id="pause-line">' + esc(text) + '</p>' : '';
  }

  /// 联合办理: each assisting unit's part — where it stands, its deadlines, its report.
  function partsCard(t) {
    const parts = t.assisting || [];
    if (!parts.length) return '';
    const state = (p) => p.status === 'completed' ? '已反馈' : p.status === 'released' ? '已解除' : p.accepted_at ? '已签收，待反馈' : '待签收';
    const late = (p) => p.status === 'active' && ((!p.accepted_at && new Date(p.respond_by) < new Date()) || new Date(p.resolve_by) < new Date());
    return '<section class="card"><h2>协办单位（' + parts.length + '个' + (t.assisting_open ? '，' + t.assisting_open + '个待反馈' : '，已全部反馈') + '）</h2><ul class="parts" id="parts">' +
      parts.map((p) => '<li data-unit="' + p.unit.id + '" data-status="' + esc(p.status) + '"><b>' + esc(p.unit.name) + '</b>' + (p.assignee ? ' · ' + esc(p.assignee.name) : '') +
        ' <span class="tag' + (p.status === 'active' ? (late(p) ? ' red' : '') : ' done') + '">' + esc(state(p)) + (late(p) ? '（超时）' : '') + '</span>' +
        '<br><span class="meta">签收时限 ' + esc(time(p.respond_by)) + ' · 办结时限 ' + esc(time(p.resolve_by)) + (p.resolved_at ? ' · 反馈于 ' + esc(time(p.resolved_at)) : '') + '</span>' +
        (p.report_note ? '<br><span class="note">' + esc(p.report_note) + '</span>' : '') + '</li>').join('') +
      '</ul>' + (t.assisting_open ? '<p class="meta">全部协办单位反馈（或由派单员解除协办）后，主办单位方可办结。</p>' : '') + '</section>';
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
      ['地区', (t.region_names || []).join(' / ')], ['地址', t.address || '—'], ['反映人', t.channel === 'proactive' ? '无（工作人员主动发现）' : (t.requester.name || '群众') + ' ' + t.requester.phone],
      ['受理时间', time(reg.received_at || t.created_at)], ['登记时限', time(t.register_by) + (reg.late ? '（登记超时' + (reg.minutes != null ? '，用时' + reg.minutes + '分钟' : '') + '）' : '')],
    ];
    if (t.dispatch_by) facts.push(['派单时限', time(t.dispatch_by)]);
    if (t.visit_by) facts.push(['回访时限', time(t.visit_by)]);
    if (t.repeat_of) facts.push(['重复诉求', '与 ' + t.repeat_of + ' 相同']);
    if (t.repeat_count) facts.push(['重复次数', t.repeat_count]);
    if (t.merged_into) facts.push(['已合并至', t.merged_into]);
    if (t.proactive_ticket) facts.push(['未诉先办', '已纳入 ' + t.proactive_ticket.no + '（' + t.proactive_ticket.status_label + '）']);
    if ((t.merged_from || []).length) facts.push(['合并进来的', t.merged_from.join('、')]);
    if (t.council && t.council.refer_request) facts.push(['下交申请', '待领导签批：' + t.council.refer_request.reason]);
    if (t.council && t.status === 'referred') facts.push(['议事会签字', (t.council.signed.map((x) => x.name + '（' + x.title + '）').join('、') || '尚无') + '（' + t.council.village.name + '村民议事会，至少' + t.council.min_members + '人）']);
    const deadline = t.deadline ? '<p class="due' + (t.deadline.late ? ' late' : '') + '" id="current-deadline">当前环节：' + esc(t.deadline.label) + '，时限 ' + esc(time(t.deadline.at)) + (t.deadline.late ? '（已逾期）' : '') + '</p>' : '';
    const uploadUrl = (uid) => ((t.uploads || []).find((u) => u.id === uid) || { url: '/api/v1/tickets/' + t.no + '/uploads/' + uid }).url;
    const isAudio = (uid) => ((t.uploads || []).find((u) => u.id === uid) || {}).mime?.startsWith('audio/');
    const thumb = (uid, alt) => isAudio(uid)
      ? '<p class="voice"><span class="meta">语音留言</span><audio controls preload="none" data-upload="' + esc(uid) + '" data-src="' + esc(uploadUrl(uid)) + '"></audio></p>'
      : '<a href="#" target="_blank" rel="noopener"><img alt="' + esc(alt) + '" data-upload="' + esc(uid) + '" data-src="' + esc(uploadUrl(uid)) + '" data-alt="/api/v1/uploads/' + esc(uid) + '"></a>';
    const extra = (e) => {
      const d = e.data || {};
      const out = [];
      if (e.action === 'escalate' && d.from_unit_name) out.push('由 ' + d.from_unit_name + ' 提级至 ' + d.unit_name + (d.approved_request ? '（批准申请）' : d.auto ? '（超时自动提级）' : ''));
      else if (e.action === 'redirect' && d.from_unit_name) out.push('由 ' + d.from_unit_name + ' 改派至 ' + d.unit_name + (d.assignee_name ? ' · ' + d.assignee_name : ''));
      else if (e.action === 'withdraw' && d.unit_name) out.push('从 ' + d.unit_name + ' 撤回');
      else if (d.unit_name) out.push('承办单位：' + d.unit_name);
      if ((d.assisting || []).length) out.push('协办单位：' + d.assisting.map((x) => x.unit_name).join('、'));
      if (d.target_unit_name) out.push('申请提级至：' + d.target_unit_name);
      if (d.council) out.push('下交：' + d.council);
      if (d.party) out.push('会签方：' + (PARTY[d.party] || d.party));
      if (e.action === 'return_visit' && d.reached != null) {
        out.push(d.reached ? [VISIT_CHANNEL[d.channel], SATISFACTION[d.satisfaction], SOLVED[d.solved]].filter(Boolean).join(' · ') : '未联系到' + (VISIT_CHANNEL[d.channel] ? '（' + VISIT_CHANNEL[d.channel] + '）' : ''));
      }
      if (e.action === 'urge' && d.type) out.push((URGE_TYPE[d.type] || d.type) + ' · ' + (URGE_LEVEL[d.level] || '一般催办'));
      if (e.action === 'urge' && d.auto) out.push('超时自动催办');
      if (d.published === false) out.push('不向群众公开');
      return out.map((x) => '<br><span class="who">' + esc(x) + '</span>').join('') +
        (e.action === 'urge' && d.type === 'written' ? '<br><a href="#" class="urge-pdf" data-pdf="/api/v1/tickets/' + encodeURIComponent(t.no) + '/urges/' + e.seq + '.pdf">打印催办单（PDF）</a>' : '') +
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
        (esc_req ? '<p class="' + (esc_req.pending ? 'error' : 'meta') + '">提级申请：' + esc(esc_req.reason || '') + (esc_req.pending ? '（待派单员审批）' : esc_req.decision === 'refused' ? '（已驳回）' : '（已批准）') + '</p>' : '') +
        pauseLine(a) + '</section>' : '') + partsCard(t) +
      (t.signoffs ? '<section class="card"><h2>四方会签</h2><ul class="signoffs" id="signoffs">' + t.signoffs.map((s) => '<li class="' + (s.signed ? 'done' : '') + '" data-party="' + esc(s.party) + '">' + esc(s.label) + '<em>' + (s.signed ? '已签' : '未签') + '</em></li>').join('') + '</ul>' +
        (t.signoffs.some((s) => !s.signed) ? '<p class="meta">四方会签齐全后方可归档。</p>' : '') + '</section>' : '') +
      ((t.linked_tickets || []).length ? '<section class="card"><h2>关联诉求（' + t.linked_tickets.length + '件）</h2><ul class="linked" id="linked-tickets">' +
        t.linked_tickets.map((l) => '<li><a href="#/t/' + esc(l.no) + '">' + esc(l.no) + '</a> <span class="status">' + esc(l.status_label) + '</span> ' + esc(l.category_name) + ' · ' + esc(l.village) + ' · ' + esc(l.phone) + '</li>').join('') +
        '</ul><p class="meta">办结时将以短信告知以上群众（同一号码一条）。</p></section>' : '') +
      ((t.uploads || []).length ? '<section class="card"><h2>照片与语音（' + t.uploads.length + '件）</h2><div class="thumbs" id="uploads">' + t.uploads.map((u, i) => thumb(u.id, '照片' + (i + 1))).join('') + '</div></section>' : '') +
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
      // The form is handled from the moment it exists: a submit before the handler would be the
      // browser's own (a reload to the bare console). Sending waits until the unit's people are
      // listed, so the choice of cadre is there to make.
      const submit = $('button[type=submit]', form);
      form.addEventListener('submit', (ev) => { ev.preventDefault(); if (!submit.disabled) act(t.no, item, form); });
      $('.cancel', form).addEventListener('click', () => { holder.innerHTML = ''; b.classList.remove('on'); b.focus(); });
      for (const ev of ['input', 'change']) form.addEventListener(ev, (e) => { if (e.target.name) clearMsg(form, e.target.name); });
      photoPicker(form);
      unitSearch(form);
      submit.disabled = true;
      try { await assigneeOptions(form); } finally { submit.disabled = false; }
      const first = $('textarea, input[type=text], select', form);
      if (first && !matchMedia('(max-width: 760px)').matches) first.focus();
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

  // --- registration of a call or a visit: starts empty, finds the caller's earlier requests ---
  function resetNewForm() {
    const f = $('#new-form');
    f.reset();
    // Nothing is chosen for the operator: the village and the category come from the call.
    f.region_id.innerHTML = '<option value="">请选择所在村（网格）</option>' + regionOptions();
    f.category.innerHTML = '<option value="">请选择诉求分类</option>' + categoryOptions(null);
    f.region_id.value = '';
    f.category.value = '';
    for (const el of f.elements) if (el.name) clearMsg(f, el.name);
    $('#new-error').hidden = true;
    showHistory(null);
  }

  async function showNew() {
    show('new');
    await loadLookups();
  }

  let historyFor = null;
  function showHistory(phone, data) {
    const box = $('#caller-history');
    historyFor = phone;
    if (!phone || !data) { box.hidden = true; box.innerHTML = ''; return; }
    if (!data.total) { box.innerHTML = '<p class="meta">该号码此前没有诉求记录。</p>'; box.hidden = false; return; }
    box.innerHTML = '<p class="history-head">该号码此前的诉求 <b>' + data.total + '</b> 件' + (data.total > data.items.length ? '（显示最近' + data.items.length + '件）' : '') + '：</p><ul>' +
      data.items.map((r) => '<li data-no="' + esc(r.no) + '"><a href="#/t/' + esc(r.no) + '" target="_blank" rel="noopener">' + esc(r.no) + '</a> <span class="status">' + esc(r.status_label) + '</span> ' +
        esc(r.category_name || r.category) + ' · ' + esc(r.region_name || '') + ' · ' + esc(time(r.created_at)) + '<span class="summary">' + esc(r.summary) + '</span></li>').join('') + '</ul>' +
      '<p class="hint">同一号码、同村、同类诉求30天内再次登记，将自动关联为重复诉求。</p>';
    box.hidden = false;
  }

  // A message goes as soon as its field is changed.
  for (const ev of ['input', 'change']) $('#new-form').addEventListener(ev, (e) => { if (e.target.name) clearMsg(e.target.form, e.target.name); });

  let lookupTimer = null;
  async function lookupCaller() {
    const el = $('#new-phone');
    const v = el.value.replace(/\s/g, '');
    if (!new RegExp('^(?:' + el.pattern + ')$').test(v)) { showHistory(null); return; }
    if (historyFor === v) return;
    try {
      const data = await api('GET', '/api/v1/tickets?per_page=5&phone=' + encodeURIComponent(v));
      if ($('#new-phone').value.replace(/\s/g, '') === v) showHistory(v, data);
    } catch (e) { showHistory(null); }
  }
  $('#new-phone').addEventListener('input', () => { clearTimeout(lookupTimer); lookupTimer = setTimeout(lookupCaller, 300); });
  $('#new-phone').addEventListener('blur', lookupCaller);

  $('#new-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = ev.target;
    const err = $('#new-error');
    err.hidden = true;
    $('#new-done').hidden = true;
    for (const el of f.elements) if (el.name) clearMsg(f, el.name);
    if (!check(f)) return;
    const b = bodyOf(f);
    b.region_id = Number(b.region_id);
    if (b.received_at) b.received_at = new Date(b.received_at.replace(' ', 'T') + ':00+08:00').toISOString();
    const btn = $('button[type=submit]', f);
    btn.disabled = true;
    try {
      const r = await api('POST', '/api/v1/tickets', b);
      resetNewForm();
      $('#new-done').innerHTML = '已登记，工单号 <a id="new-no" href="#/t/' + esc(r.ticket_no) + '">' + esc(r.ticket_no) + '</a>' +
        (r.repeat_of ? '（与 ' + esc(r.repeat_of) + ' 为重复诉求）' : '') + (r.registration_late ? '（登记已超过15分钟时限）' : '');
      $('#new-done').hidden = false;
    } catch (e) {
      // The server's word on a field goes under that field, like the console's other forms.
      const near = e.field && fieldMsg(f, e.field, e.message);
      err.textContent = e.message || '登记失败';
      err.hidden = !!near;
      if (near && f.elements[e.field] && f.elements[e.field].focus) f.elements[e.field].focus();
    } finally {
      btn.disabled = false;
    }
  });

  // --- return visits no one could make: three calls unanswered ---
  async function loadUnreachable() {
    show('unreachable');
    await loadLookups();
    const tbody = $('#unreachable tbody');
    const cat = (code) => (lookups.categories.find((c) => c.code === code) || {}).name || code;
    const unit = (id) => (lookups.units.find((u) => u.id === id) || {}).name || '—';
    try {
      const data = await api('GET', '/api/v1/return-visits/unreachable?page=' + unreachablePage);
      tbody.innerHTML = data.items.map((r) => '<tr data-no="' + esc(r.no) + '"><td data-label="工单号"><a href="#/t/' + esc(r.no) + '">' + esc(r.no) + '</a></td>' +
        '<td data-label="内容">' + esc(cat(r.category)) + '<span class="summary">' + esc(r.summary) + '</span></td>' +
        '<td data-label="联系电话">' + esc(r.phone) + '</td><td data-label="承办单位">' + esc(unit(r.unit_id)) + '</td>' +
        '<td data-label="受理时间" class="when">' + esc(time(r.created_at)) + '</td></tr>').join('') || '<tr><td colspan="5">没有无法联系的回访</td></tr>';
      const pages = Math.max(1, Math.ceil(data.total / data.per_page));
      $('#unreachable-summary').textContent = '共 ' + data.total + ' 件';
      $('#unreachable-page').textContent = '第 ' + data.page + ' / ' + pages + ' 页';
      $('#unreachable-prev').disabled = data.page <= 1;
      $('#unreachable-next').disabled = data.page >= pages;
    } catch (e) {
      tbody.innerHTML = '<tr><td colspan="5" class="error">' + esc(e.message) + '</td></tr>';
    }
  }

  // --- deadlines administration (read for all staff; admins edit through the API) ---
  async function showSla() {
    show('sla');
    await loadLookups();
    const name = (code) => (lookups.categories.find((c) => c.code === code) || {}).name || code;
    try {
      const p = await api('GET', '/api/v1/sla-policies');
      const h = (m) => (m % 1440 === 0 ? m / 1440 + '天' : m % 60 === 0 ? m / 60 + '小时' : m + '分钟');
      const KINDS = { consultation: '咨询', help: '求助', complaint: '投诉', report: '举报', suggestion: '建议', praise: '表扬' };
      const admin = Staff.has('admin');
      const kindCell = (x) => admin
        ? '<select data-policy="' + x.id + '" aria-label="' + esc(x.name) + '的诉求类型">' + '<option value=""' + (x.kind ? '' : ' selected') + '>全部类型</option>' +
          Object.keys(KINDS).map((k) => '<option value="' + k + '"' + (x.kind === k ? ' selected' : '') + '>' + KINDS[k] + '</option>').join('') + '</select>'
        : esc(x.kind ? KINDS[x.kind] || x.kind : '全部');
      $('#policies').innerHTML = '<table class="policies"><thead><tr><th>名称</th><th>分类</th><th>诉求类型</th><th>紧急程度</th><th>计时</th><th>登记</th><th>派单</th><th>响应</th><th>首次反馈</th><th>办结</th><th>回访</th><th>会签</th></tr></thead><tbody>' +
        p.items.map((x) => '<tr><td>' + esc(x.name) + '</td><td>' + esc(x.category_code ? name(x.category_code) : '默认') + '</td><td>' + kindCell(x) + '</td><td>' + (x.priority === 'urgent' ? '紧急' : '普通') + '</td><td>' + (x.clock === 'workdays' ? '工作日' : '自然时') + '</td>' +
          [x.register_minutes, x.dispatch_minutes, x.respond_minutes, x.progress_minutes, x.resolve_minutes, x.visit_minutes].map((m) => '<td>' + h(m) + '</td>').join('') + '<td>' + (x.signoff_required ? '需要' : '—') + '</td></tr>').join('') + '</tbody></table>';
      $$('#policies select[data-policy]').forEach((el) => el.addEventListener('change', async () => {
        el.disabled = true;
        try {
          await api('PUT', '/api/v1/sla-policies/' + el.dataset.policy, { kind: el.value });
          el.title = '已保存（对此后新派的工单生效）';
        } catch (e) { el.title = e.message; alert(e.message); showSla(); return; }
        el.disabled = false;
      }));
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
      await Staff.login($('#username').value.trim(), $('#password').value);
      $('#password').value = '';
      route();
    } catch (e) { err.textContent = (e && e.message) || '登录失败'; err.hidden = false; }
  });
  $('#logout').addEventListener('click', logout);
  $('#password-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const form = ev.target;
    const err = $('#password-error');
    err.hidden = true;
    for (const n of ['old_password', 'new_password', 'repeat']) clearMsg(form, n);
    if (!check(form)) return;
    const nw = form.new_password.value;
    if ([...nw].length < 10) { fieldMsg(form, 'new_password', '新密码须为10到128个字符'); form.new_password.focus(); return; }
    if (nw !== form.repeat.value) { fieldMsg(form, 'repeat', '两次输入的新密码不一致'); form.repeat.focus(); return; }
    const button = $('button[type=submit]', form);
    button.disabled = true;
    try {
      await Staff.changePassword(form.old_password.value, nw);
      form.reset();
      lookups = null;
      route();
    } catch (e) {
      if (!(e && e.field && fieldMsg(form, e.field, e.message))) { err.textContent = (e && e.message) || '修改失败，请重试'; err.hidden = false; }
    } finally { button.disabled = false; }
  });
  Staff.onPasswordRequired(() => show('password'));
  // On a phone the filters fold away until asked for.
  if (window.matchMedia('(max-width: 760px)').matches) $('#filter-box').open = false;
  $('#filters').addEventListener('submit', (ev) => { ev.preventDefault(); listPage = 1; loadList(); });
  // A status chosen in the filters shows every tab's worth of it; a tab clears that choice.
  $('#filters').status.addEventListener('change', () => { listTab = 'all'; });
  $('#tabs').addEventListener('click', (ev) => {
    const b = ev.target.closest('button[data-tab]');
    if (!b) return;
    listTab = b.dataset.tab;
    $('#filters').status.value = '';
    listPage = 1;
    loadList();
  });
  $('#orders thead').addEventListener('click', (ev) => {
    const th = ev.target.closest('th[data-sort]');
    if (!th) return;
    const key = th.dataset.sort;
    // First click: soonest deadline, lowest number, earliest stage first; newest first for time.
    const asc = key === 'created_at' ? '-' + key : key;
    listSort = listSort === asc ? (asc.startsWith('-') ? key : '-' + key) : asc;
    listPage = 1;
    loadList();
  });
  $('#prev').addEventListener('click', () => { listPage = Math.max(1, listPage - 1); loadList(); });
  $('#next').addEventListener('click', () => { listPage += 1; loadList(); });
  $('#unreachable-prev').addEventListener('click', () => { unreachablePage = Math.max(1, unreachablePage - 1); loadUnreachable(); });
  $('#unreachable-next').addEventListener('click', () => { unreachablePage += 1; loadUnreachable(); });
  for (const table of ['#orders', '#unreachable']) {
    $(table + ' tbody').addEventListener('click', (ev) => {
      const tr = ev.target.closest('tr[data-no]');
      if (tr && !ev.target.closest('a')) location.hash = '#/t/' + tr.dataset.no;
    });
  }

  const admin = window.Admin.init({ $, $$, esc, time, opt, show, check, fieldMsg, clearMsg, loadLookups: () => loadLookups(), ACTION_LABEL: ACTION });
  const directory = window.Directory.init({ $, $$, esc, time, opt, show, check, fieldMsg, clearMsg, forget: () => { lookups = null; } });
  const queues = window.Queues.init({ $, $$, esc, time, opt, show, check, fieldMsg, clearMsg, loadLookups: () => loadLookups() });
  const hotspots = window.Hotspots.init({ $, $$, esc, time, show, check, fieldMsg, clearMsg });
  const accountability = window.Accountability.init({ $, $$, esc, time, show, check, fieldMsg, clearMsg });
  const council = window.Council.init({ $, esc, show, check, fieldMsg, clearMsg, opt, loadLookups });
  const dashboard = window.Dashboard.init({ $, $$, esc, time, show, check, fieldMsg, clearMsg, today });
  const screens = window.Screens.init({ $, esc, time, show, check, fieldMsg, clearMsg });
  // Leaders, inspectors and dispatchers open the console on the dashboard; everyone else on the work list.
  const DASHBOARD_ROLES = ['leader', 'inspector', 'dispatcher'];

  function route() {
    if (!Staff.session()) return show('login');
    if (Staff.mustChangePassword()) {
      show('password');
      return $('#pw-old').focus();
    }
    if (!location.hash || location.hash === '#') {
      if (Staff.session().staff.roles.some((r) => DASHBOARD_ROLES.includes(r))) {
        history.replaceState(null, '', '#/dashboard');
        return dashboard.route('#/dashboard');
      }
    }
    const h = location.hash || '#/';
    if (h === '#/import') return admin.showImport();
    if (h === '#/staff') return admin.showStaff();
    if (h === '#/audit') return admin.showAudit();
    if (h === '#/regions') return directory.showRegions();
    if (h === '#/units') return directory.showUnits();
    if (h === '#/categories') return directory.showCategories();
    if (queues.route(h)) return;
    if (hotspots.route(h)) return;
    if (accountability.route(h)) return;
    if (council.route(h)) return;
    if (screens.route(h)) return;
    // Whoever has no dashboard (a cadre, after a leader signed out at this desk) gets the work list.
    if (h === '#/dashboard' && !DASHBOARD_ROLES.some(has)) {
      history.replaceState(null, '', '#/');
      return loadList();
    }
    if (dashboard.route(h)) return;
    // The work list with its filters given in the address (#/?overdue=true&region_id=3): the
    // dashboard's numbers link here.
    const q = h.match(/^#\/\?(.*)$/);
    if (q) {
      pendingFilters = new URLSearchParams(q[1]);
      listTab = 'all';
      listPage = 1;
      return loadList();
    }
    const m = h.match(/^#\/t\/([0-9-]+)$/);
    if (m) return loadDetail(m[1]);
    if (h === '#/new') return showNew();
    if (h === '#/unreachable') return loadUnreachable();
    if (h === '#/sla') return showSla();
    return loadList();
  }
  window.addEventListener('hashchange', route);
  route();
})();
