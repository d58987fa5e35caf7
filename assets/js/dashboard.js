// 民声直达 staff console, 看板 (#/dashboard): the leaders' numbers for a period and a region — the
// counts, the five rates with their numerators and denominators, the four satisfaction scores, the
// orders overdue now with who holds them, and the unit ranking tier by tier. Every number that has a
// list behind it links into the work list (#/?filters) with those filters applied. Loaded before
// console.js, which hands over its helpers with `Dashboard.init` and sends the route here. Overdue
// rows carry `data-ticket`, not the work list's `data-no`, so that a ticket is found once per page.
'use strict';
(function () {
  // The rates in the order the county reports them: [key of the rate and its fraction, label, what the fraction is].
  const RATES = [
    ['response', '响应率', '按时签收 / 应签收'],
    ['resolution', '解决率', '已解决 / 回访'],
    ['satisfaction', '满意率', '(满意 + 基本满意×权重) / 回访'],
    ['closure', '办结率', '办结 / 受理'],
    ['reopen', '重办率', '重办 / 办结'],
  ];
  const DIMS = [['attitude', '态度'], ['capability', '能力'], ['convenience', '便利'], ['efficiency', '效率']];
  const TIERS = ['village', 'township', 'county', 'outside'];
  const UNRANKED = { no_data: '本期无数据', too_few_visits: (n) => '有效回访不足' + n + '件', new_unit: '本期新设单位' };
  const unrankedWhy = (u, minVisits) => { const r = UNRANKED[u.unranked_reason]; return typeof r === 'function' ? r(minVisits) : r || '不排名'; };

  const pct = (r) => (r == null ? '—' : (r * 100).toFixed(1) + '%');
  const num = (n) => (Number.isInteger(n) ? String(n) : n.toFixed(1));
  const frac = (f) => (f ? num(f.numerator) + '/' + f.denominator : '');

  /// How long, in words: 超时 40分钟, 超时 5小时, 超时 2天3小时.
  function overdueFor(seconds) {
    const m = Math.max(1, Math.floor(seconds / 60));
    if (m < 60) return m + '分钟';
    const h = Math.floor(m / 60);
    if (h < 24) return h + '小时';
    const d = Math.floor(h / 24);
    return d + '天' + (h % 24 ? (h % 24) + '小时' : '');
  }

  function init(c) {
    const { $, esc, show, check, fieldMsg, clearMsg, today } = c;
    const api = Staff.api;
    let regions = null;
    let seq = 0;

    const say = (el, text) => { el.textContent = text; el.hidden = false; };
    const list = (params) => '#/?' + new URLSearchParams(params);
    const addDays = (ymd, n) => { const d = new Date(ymd + 'T00:00:00Z'); d.setUTCDate(d.getUTCDate() + n); return d.toISOString().slice(0, 10); };

    /// The dates of the period chosen: this week (from Monday), this month, the last 30 days, or the two typed.
    function period(f) {
      const t = today();
      switch (f.period.value) {
        case 'week': { const dow = (new Date(t + 'T00:00:00Z').getUTCDay() + 6) % 7; return { from: addDays(t, -dow), to: t }; }
        case 'month': return { from: t.slice(0, 8) + '01', to: t };
        case 'custom': return { from: f.from.value.trim(), to: f.to.value.trim() };
        default: return { from: addDays(t, -29), to: t };
      }
    }

    /// The user's own region and the regions under it (not the micro-grids), indented by depth.
    async function loadRegions() {
      if (regions) return regions;
      const d = await api('GET', '/api/v1/regions?per_page=100');
      const rs = d.items.filter((r) => r.level !== 'grid');
      const depth = (r) => r.path.split('/').filter(Boolean).length;
      const top = Math.min(...rs.map(depth));
      const byPath = rs.slice().sort((a, b) => a.path.split('/').map(Number).join('.').localeCompare(b.path.split('/').map(Number).join('.'), 'en', { numeric: true }));
      regions = byPath.map((r) => ({ id: r.id, name: r.name, depth: depth(r) - top }));
      $('#dashboard-filters').region_id.innerHTML = regions.map((r) =>
        '<option value="' + r.id + '">' + '　'.repeat(r.depth) + esc(r.name) + '</option>').join('');
      return regions;
    }

    function card(label, value, sub, href, cls) {
      const v = href ? '<a href="' + esc(href) + '">' + esc(value) + '</a>' : esc(value);
      return '<div class="kpi' + (cls ? ' ' + cls : '') + '"><span class="lbl">' + esc(label) + '</span><b>' + v + '</b>' +
        (sub ? '<small>' + esc(sub) + '</small>' : '') + '</div>';
    }

    function showSummary(s, od, p, region) {
      const c = s.counts;
      const inPeriod = { region_id: region, from: p.from, to: p.to };
      $('#dashboard-period').textContent = s.region.name + ' · ' + s.from + ' 至 ' + s.to;
      $('#dashboard-counts').innerHTML =
        card('受理', String(c.received), '本期收到的诉求', list(inPeriod), 'count-received') +
        card('已派单', String(c.dispatched), '', '', 'count-dispatched') +
        card('已办结', String(c.resolved_or_closed), '', '', 'count-resolved') +
        card('有效回访', String(c.visited), '', '', 'count-visited') +
        card('当前超时', String(od.total), '超时未办，点击查看', list({ overdue: 'true', region_id: region }), 'count-overdue' + (od.total ? ' warn' : ''));
      $('#dashboard-rates').innerHTML = RATES.map(([k, label, what]) =>
        card(label, pct(s[k + '_rate']), frac(s.fractions[k]) + '（' + what + '）', '', 'rate-' + k)).join('') +
        card('综合得分', s.composite_score == null ? '—' : s.composite_score.toFixed(1), '满分100', '', 'rate-composite');
      $('#dashboard-dims').innerHTML = DIMS.map(([k, label]) => {
        const d = s.dimensions[k];
        return card(label, d.mean == null ? '—' : d.mean.toFixed(2), d.count + '次评分', '', 'dim-' + k);
      }).join('');
    }

    function showOverdue(od, region) {
      $('#overdue-total').innerHTML = od.total
        ? '共 <a href="' + esc(list({ overdue: 'true', region_id: region })) + '">' + od.total + ' 件</a>' +
          (od.total > od.items.length ? '，按超时时长列出前 ' + od.items.length + ' 件' : '，超时最久的在前')
        : '';
      $('#dashboard-overdue tbody').innerHTML = od.items.map((o) => '<tr data-ticket="' + esc(o.ticket_no) + '" class="late">' +
        '<td data-label="工单号"><a href="#/t/' + esc(o.ticket_no) + '">' + esc(o.ticket_no) + '</a></td>' +
        '<td data-label="分类">' + esc(o.category.name) + '</td>' +
        '<td data-label="地区">' + esc(o.region.name || '') + '</td>' +
        '<td data-label="承办单位">' + esc(o.unit.name) + '</td>' +
        '<td data-label="当前持有人" class="holder">' + esc(o.holder.name) + (o.holder.kind === 'unit' ? '<span class="summary">未签收，由单位持有</span>' : '') + '</td>' +
        '<td data-label="超时环节">' + esc(o.deadline_label) + '超时</td>' +
        '<td data-label="超时时长" class="late-for">超时 ' + esc(overdueFor(o.overdue_seconds)) + '</td></tr>').join('') ||
        '<tr><td colspan="7">当前没有超时工单</td></tr>';
    }

    function rateCell(u, k, label) {
      return '<td data-label="' + label + '" class="num">' + pct(u[k + '_rate']) + '<small class="frac">' + frac(u.fractions[k]) + '</small></td>';
    }

    function showRanking(units, p) {
      const head = '<thead><tr><th>名次</th><th>单位</th><th>综合得分</th>' + RATES.map(([, label]) => '<th>' + label + '</th>').join('') + '<th>挂起</th><th>被催办</th></tr></thead>';
      const html = TIERS.map((tier) => {
        const rows = units.items.filter((u) => u.tier === tier);
        if (!rows.length) return '';
        const body = rows.map((u) => '<tr data-unit="' + u.unit.id + '"' + (u.rank ? '' : ' class="unranked"') + '>' +
          '<td data-label="名次" class="rank">' + (u.rank ? u.rank : '<span class="tag">' + esc(unrankedWhy(u, units.min_visits)) + '</span>') + '</td>' +
          '<td data-label="单位" class="unit"><a href="' + esc(list({ unit_id: u.unit.id, from: p.from, to: p.to })) + '">' + esc(u.unit.name) + '</a></td>' +
          '<td data-label="综合得分" class="num">' + (u.composite_score == null ? '—' : u.composite_score.toFixed(1)) + '</td>' +
          RATES.map(([k, label]) => rateCell(u, k, label)).join('') +
          '<td data-label="挂起" class="num paused">' + (u.paused_orders ? u.paused_orders + '件 / ' + u.paused_days + '天' : '—') + '</td>' +
          '<td data-label="被催办" class="num urged" title="人工催办 / 超时自动催办">' + (u.urges || u.auto_urges ? u.urges + ' / ' + u.auto_urges : '—') + '</td></tr>').join('');
        return '<h3 class="tier" data-tier="' + tier + '">' + esc(rows[0].tier_label) + '</h3><table class="orders plain ranking" data-tier="' + tier + '">' + head + '<tbody>' + body + '</tbody></table>';
      }).join('');
      $('#dashboard-ranking').innerHTML = html || '<p class="meta">该地区没有承办单位</p>';
      $('#dashboard-rules').innerHTML = '<p class="formula">' + esc(units.formula) + '</p><ul>' +
        units.rules.map((r) => '<li>' + esc(r) + '</li>').join('') + '</ul>';
    }

    /// Every unit of the region (the API pages by 100).
    async function allUnits(q) {
      const first = await api('GET', '/api/v1/stats/units?' + q + '&per_page=100');
      let items = first.items;
      for (let page = 2; items.length < first.total && page <= 50; page++) {
        const next = await api('GET', '/api/v1/stats/units?' + q + '&per_page=100&page=' + page);
        items = items.concat(next.items);
        if (!next.items.length) break;
      }
      return Object.assign(first, { items });
    }

    async function load() {
      const mine = ++seq;
      const f = $('#dashboard-filters');
      const err = $('#dashboard-error');
      err.hidden = true;
      for (const n of ['from', 'to']) clearMsg(f, n);
      if (f.period.value === 'custom') {
        if (!check(f)) return;
        for (const n of ['from', 'to']) if (!f[n].value.trim()) { fieldMsg(f, n, '请填写日期'); return; }
      }
      await loadRegions();
      const p = period(f);
      const region = f.region_id.value;
      const q = new URLSearchParams({ from: p.from, to: p.to, region_id: region });
      $('#dashboard-view').setAttribute('aria-busy', 'true');
      try {
        const [s, units, od] = await Promise.all([
          api('GET', '/api/v1/stats/summary?' + q), allUnits(q), api('GET', '/api/v1/stats/overdue?region_id=' + encodeURIComponent(region)),
        ]);
        if (mine !== seq) return;
        showSummary(s, od, p, region);
        showOverdue(od, region);
        showRanking(units, p);
      } catch (e) {
        if (mine !== seq) return;
        if (!(e.field && fieldMsg(f, e.field, e.message))) say(err, e.message || '查询失败');
      } finally {
        if (mine === seq) $('#dashboard-view').setAttribute('aria-busy', 'false');
      }
    }

    function clear() {
      for (const id of ['#dashboard-counts', '#dashboard-rates', '#dashboard-dims', '#dashboard-ranking', '#dashboard-rules', '#dashboard-overdue tbody', '#overdue-total']) $(id).innerHTML = '';
      $('#dashboard-period').textContent = '';
    }

    // The next person at this desk sees nothing of the last one's numbers, nor their regions.
    Staff.onLogout(() => { clear(); regions = null; });
    const f = $('#dashboard-filters');
    f.period.addEventListener('change', () => {
      const custom = f.period.value === 'custom';
      for (const el of f.querySelectorAll('.custom-date')) el.hidden = !custom;
      if (!custom) load();
    });
    f.region_id.addEventListener('change', () => load());
    f.addEventListener('submit', (ev) => { ev.preventDefault(); load(); });
    $('#dashboard-overdue tbody').addEventListener('click', (ev) => {
      const tr = ev.target.closest('tr[data-ticket]');
      if (tr && !ev.target.closest('a')) location.hash = '#/t/' + tr.dataset.ticket;
    });

    /// console.js's router asks here; true when the page is this one.
    function route(h) {
      if (h !== '#/dashboard') return false;
      show('dashboard');
      clear();
      load();
      return true;
    }

    return { route };
  }

  window.Dashboard = { init };
})();
