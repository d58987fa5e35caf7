// 民声直达 big screen (/screen/): every panel from GET /api/v1/screen/overview, kept live by the
// dashboard stream (Server-Sent Events). Opened with `?token=` (a screen token an admin made for a
// hall PC) or by a leader or inspector signed in (the staff session of staff.js). An event shows at
// once in the latest requests and today's count, and the panels are refetched shortly after (one
// refetch for a burst of events). When the stream is down the page reconnects by itself — the
// browser's own retry carries Last-Event-ID; after a refusal the page opens a new stream with
// `last_event_id` — and meanwhile refetches every 30 s. Charts are drawn here as SVG; nothing is
// loaded from elsewhere. Never a name or a phone: the API sends none.
'use strict';
(function () {
  const $ = (s) => document.querySelector(s);
  const esc = (s) => String(s == null ? '' : s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
  const params = new URLSearchParams(location.search);
  const screenToken = params.get('token');
  const regionId = params.get('region_id');
  // Seconds between refetches while the stream is down (30; `?poll=` for a test, at least 2).
  const POLL = Math.max(2, Number(params.get('poll')) || 30) * 1000;
  // A refetch after events waits this long, so that a burst of events costs one.
  const SETTLE = 1200;
  const RATES = [['response', '响应率'], ['resolution', '解决率'], ['satisfaction', '满意率'], ['closure', '办结率'], ['reopen', '重办率']];
  const DIMS = [['attitude', '态度'], ['capability', '能力'], ['convenience', '便利'], ['efficiency', '效率']];
  const STATUS = { submitted: '已提交', registered: '已登记', dispatched: '已派单', accepted: '已签收', in_progress: '办理中', resolved: '已办结', visited: '已回访', closed: '已归档', reopened: '重办', referred: '已下交', merged: '已合并', invalid: '无效', paused: '已挂起' };
  const KIND = { intake: '新诉求', dispatch: '已派单', accept: '已签收', resolve: '已办结', return_visit: '已回访', close: '已归档' };

  let data = null;
  let clockSkew = 0;
  let es = null;
  let lastId = null;
  let backoff = 2000;
  let pollTimer = null;
  let settleTimer = null;
  let reconnectTimer = null;
  let fetching = null;
  let stopped = false;

  // ---- the stage: 1920×1080 scaled to the window -----------------------------------------------
  function fit() {
    const stage = $('#stage');
    // A phone (someone opening the link away from the hall): the panels one under the other, at
    // their own size, and scrolling; a scaled 1920 board would be unreadable there.
    // The layout viewport (a phone's browser may report a zoomed-out window in innerWidth).
    const w = document.documentElement.clientWidth;
    const h = document.documentElement.clientHeight;
    const narrow = w < 900;
    document.body.classList.toggle('narrow', narrow);
    if (narrow) {
      stage.style.transform = '';
      stage.style.left = stage.style.top = '';
      return;
    }
    const s = Math.min(w / 1920, h / 1080);
    stage.style.transform = 'scale(' + s + ')';
    stage.style.left = Math.max(0, (w - 1920 * s) / 2) + 'px';
    stage.style.top = Math.max(0, (h - 1080 * s) / 2) + 'px';
  }
  // Charts are drawn to their boxes' sizes: a new window size redraws them.
  let resized = null;
  window.addEventListener('resize', () => {
    fit();
    clearTimeout(resized);
    resized = setTimeout(() => { if (data) render(); }, 150);
  });

  // ---- credentials -------------------------------------------------------------------------------
  const token = () => screenToken || Staff.token();

  async function get(path) {
    if (!screenToken) return Staff.api('GET', path);
    const r = await fetch(path, { headers: { Accept: 'application/json', Authorization: 'Bearer ' + screenToken } });
    const body = await r.json().catch(() => ({}));
    if (!r.ok) throw Object.assign(body.error || { message: '请求失败（' + r.status + '）' }, { status: r.status });
    return body;
  }

  function gate(why) {
    stop();
    $('#board').hidden = true;
    $('#gate').hidden = false;
    $('#gate-why').textContent = why || '';
    $('#login').hidden = !!screenToken;
    setLink('off', '未连接');
  }

  $('#login').addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = e.target;
    const msg = $('#login-msg');
    msg.hidden = true;
    try {
      await Staff.login(f.username.value.trim(), f.password.value);
      f.password.value = '';
      start();
    } catch (err) {
      msg.textContent = err.message || '登录失败';
      msg.hidden = false;
    }
  });

  // ---- fetching ----------------------------------------------------------------------------------
  function refresh() {
    if (fetching) return fetching;
    const q = regionId ? '?region_id=' + encodeURIComponent(regionId) : '';
    fetching = get('/api/v1/screen/overview' + q)
      .then((d) => {
        data = d;
        clockSkew = new Date(d.now).getTime() - Date.now();
        $('#gate').hidden = true;
        $('#board').hidden = false;
        render();
        $('#updated').textContent = '数据更新于 ' + hhmmss(new Date(Date.now() + clockSkew));
        return true;
      })
      .catch((err) => {
        // Staff.api signs out on a 401 it cannot refresh (and says so without a status).
        if (err.status === 401 || (!screenToken && !Staff.token())) gate(screenToken ? '大屏凭证无效或已停用，请联系管理员重新生成链接' : '登录已过期，请重新登录');
        else if (err.status === 403) gate(err.message || '您的账号不能查看大屏（需领导或纪委监督角色）');
        else setLink(es ? 'on' : 'off', '数据暂不可用，稍后重试');
        return false;
      })
      .finally(() => { fetching = null; });
    return fetching;
  }

  function settle() {
    if (settleTimer) return;
    settleTimer = setTimeout(() => { settleTimer = null; refresh(); }, SETTLE + Math.random() * 800);
  }

  // ---- the stream --------------------------------------------------------------------------------
  function setLink(kind, text) {
    const el = $('#link');
    el.className = 'link ' + kind;
    el.textContent = text;
  }

  function startPolling() {
    if (pollTimer || stopped) return;
    pollTimer = setInterval(refresh, POLL);
    setLink('poll', '定时刷新（每' + Math.round(POLL / 1000) + '秒）');
  }

  function stopPolling() {
    if (pollTimer) clearInterval(pollTimer);
    pollTimer = null;
  }

  function connect() {
    if (stopped || es) return;
    let url = '/api/v1/stream/dashboard?access_token=' + encodeURIComponent(token() || '');
    if (lastId) url += '&last_event_id=' + encodeURIComponent(lastId);
    const source = new EventSource(url);
    es = source;
    source.onopen = () => {
      backoff = 2000;
      stopPolling();
      setLink('on', '实时');
    };
    source.onmessage = (m) => {
      if (m.lastEventId) lastId = m.lastEventId;
      let ev;
      try { ev = JSON.parse(m.data); } catch (e) { return; }
      apply(ev);
      settle();
    };
    source.addEventListener('reset', (m) => {
      if (m.lastEventId) lastId = m.lastEventId;
      refresh();
    });
    source.addEventListener('revoked', () => {
      source.close();
      es = null;
      gate(screenToken ? '大屏凭证已停用，请联系管理员' : '登录已失效，请重新登录');
    });
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED) {
        // Refused (401, 503…): the browser will not retry. Poll, and open a new stream later (a
        // fetch first, so that an expired staff token is refreshed or the credential found dead).
        if (es === source) es = null;
        startPolling();
        clearTimeout(reconnectTimer);
        reconnectTimer = setTimeout(async () => {
          if (await refresh()) connect();
        }, backoff);
        backoff = Math.min(backoff * 2, 60000);
      } else {
        // The browser reconnects by itself, with Last-Event-ID.
        startPolling();
        setLink('poll', '重新连接中…');
      }
    };
  }

  function stop() {
    stopped = true;
    stopPolling();
    clearTimeout(reconnectTimer);
    clearTimeout(settleTimer);
    settleTimer = null;
    if (es) es.close();
    es = null;
  }

  async function start() {
    stopped = false;
    if (!screenToken && !Staff.token()) { gate(''); return; }
    if (await refresh()) connect();
  }

  // ---- an event, at once -------------------------------------------------------------------------
  function apply(ev) {
    if (!data) return;
    if (ev.kind === 'intake') {
      data.today_counts.received += 1;
      $('#kpi-received').textContent = data.today_counts.received;
    }
    const row = { ticket_no: ev.ticket_no, category: ev.category, place: ev.village || ev.township || '', status_label: STATUS[ev.status] || KIND[ev.kind] || '', at: ev.at, fresh: true };
    const rest = data.latest.filter((t) => t.ticket_no !== ev.ticket_no);
    data.latest = [row].concat(rest).slice(0, 20);
    drawLatest();
  }

  // ---- drawing -----------------------------------------------------------------------------------
  const pct = (r) => (r == null ? '—' : (r * 100).toFixed(1) + '%');
  const two = (n) => (n < 10 ? '0' : '') + n;
  const hhmmss = (d) => two(d.getHours()) + ':' + two(d.getMinutes()) + ':' + two(d.getSeconds());

  function span(seconds) {
    if (seconds == null) return '—';
    const m = Math.max(0, Math.round(seconds / 60));
    if (m < 60) return m + '分钟';
    const h = Math.floor(m / 60);
    if (h < 48) return h + '小时' + (m % 60 ? (m % 60) + '分' : '');
    return (h / 24).toFixed(1) + '天';
  }

  function ago(at) {
    const s = Math.max(0, (Date.now() + clockSkew - new Date(at).getTime()) / 1000);
    if (s < 60) return '刚刚';
    if (s < 3600) return Math.floor(s / 60) + '分钟前';
    if (s < 86400) return Math.floor(s / 3600) + '小时前';
    return Math.floor(s / 86400) + '天前';
  }

  const svg = (w, h, inner) => '<svg viewBox="0 0 ' + w + ' ' + h + '" role="img">' + inner + '</svg>';
  /// A chart's size in stage pixels (one SVG unit = one pixel: text keeps its size).
  const size = (el, w, h) => [el.clientWidth || w, el.clientHeight || h];
  const text = (x, y, s, cls, anchor) => '<text x="' + x + '" y="' + y + '"' + (cls ? ' class="' + cls + '"' : '') + (anchor ? ' text-anchor="' + anchor + '"' : '') + '>' + esc(s) + '</text>';
  const rect = (x, y, w, h, cls) => '<rect x="' + x.toFixed(1) + '" y="' + y.toFixed(1) + '" width="' + Math.max(0, w).toFixed(1) + '" height="' + Math.max(0, h).toFixed(1) + '" class="' + cls + '"/>';

  /// Horizontal bars: rows of [label, value, late part, note]; `max` the full length.
  function hbars(el, rows, max, opts) {
    const [W, H] = size(el, 360, 240);
    if (!rows.length) { el.innerHTML = '<p class="empty">' + esc(opts.empty) + '</p>'; return; }
    const step = H / rows.length;
    const bh = Math.min(28, step * 0.6);
    const x0 = opts.labelWidth || 110;
    const room = W - x0 - (opts.noteWidth || 70);
    let inner = '';
    rows.forEach(([label, v, late, note], i) => {
      const y = i * step + (step - bh) / 2;
      const len = max > 0 ? room * v / max : 0;
      inner += text(x0 - 8, y + bh / 2 + 6, label, '', 'end') + rect(x0, y, room, bh, 'track') + rect(x0, y, len, bh, opts.cls || 'bar');
      if (late) inner += rect(x0, y, max > 0 ? room * late / max : 0, bh, 'bar late');
      inner += text(x0 + room + 8, y + bh / 2 + 6, note, 'muted');
    });
    el.innerHTML = svg(W, H, inner);
  }

  function drawKpi(d) {
    $('#kpi-received').textContent = d.today_counts.received;
    $('#kpi-resolved').textContent = d.today_counts.resolved;
    $('#kpi-open').textContent = d.today_counts.open;
    $('#kpi-overdue').textContent = d.today_counts.overdue;
  }

  function drawTimes(d) {
    const t = d.durations;
    $('#t-respond').textContent = span(t.respond_seconds);
    $('#t-respond-n').textContent = t.responded + '单';
    $('#t-resolve').textContent = span(t.resolve_seconds);
    $('#t-resolve-n').textContent = t.resolved + '件';
  }

  function drawChannels(d) {
    const rows = d.channels.filter((c) => c.count > 0 || ['qr', 'hotline', 'wechat', 'sms'].includes(c.channel));
    const max = Math.max(1, ...rows.map((c) => c.count));
    hbars($('#chart-channels'), rows.map((c) => [c.label, c.count, 0, c.count + '件']), max, { labelWidth: 96, noteWidth: 64, empty: '今日暂无诉求' });
  }

  function drawHours(d) {
    const [W, H] = size($('#chart-hours'), 360, 250);
    const max = Math.max(1, ...d.hours);
    const now = new Date(Date.now() + clockSkew).getHours();
    const x0 = 30;
    const step = (W - x0 - 6) / 24;
    let inner = '<line x1="' + x0 + '" y1="' + (H - 26) + '" x2="' + W + '" y2="' + (H - 26) + '" class="axis"/>';
    d.hours.forEach((n, h) => {
      const bh = (H - 60) * n / max;
      const x = x0 + h * step + step * 0.15;
      inner += rect(x, H - 26 - bh, step * 0.7, bh, h === now ? 'now' : 'bar');
      if (n) inner += text(x + step * 0.35, H - 30 - bh, String(n), 'muted', 'middle');
      if (h % 4 === 0) inner += text(x + step * 0.35, H - 6, h + '时', 'muted', 'middle');
    });
    $('#chart-hours').innerHTML = svg(W, H, inner);
  }

  function drawRates(d) {
    $('#rates').innerHTML = RATES.map(([k, label]) => {
      const f = d.fractions[k];
      const r = d.rates[k + '_rate'];
      const low = r != null && (k === 'reopen' ? r > 0.1 : r < 0.8);
      return '<div class="rate rate-' + k + (low ? ' low' : '') + '"><span>' + label + '</span><b>' + pct(r) + '</b><small>' +
        (f.denominator ? Math.round(f.numerator * 10) / 10 + '/' + f.denominator : '无数据') + '</small></div>';
    }).join('');
  }

  function drawTrend(d) {
    const el = $('#chart-trend');
    const [W, full] = size(el, 740, 250);
    const H = full - 26;
    const x0 = 50;
    const top = 12;
    const bottom = H - 24;
    const n = d.trend.length;
    const x = (i) => x0 + (W - x0 - 30) * (n > 1 ? i / (n - 1) : 0.5);
    const y = (r) => bottom - (bottom - top) * r;
    let inner = '';
    [0, 0.5, 1].forEach((g) => { inner += '<line x1="' + x0 + '" y1="' + y(g) + '" x2="' + W + '" y2="' + y(g) + '" class="axis"/>' + text(x0 - 6, y(g) + 5, g * 100 + '%', 'muted', 'end'); });
    // The last week is this one, so far (its rates move as the week goes on).
    d.trend.forEach((w, i) => {
      if (i === n - 1) inner += text(x(i), H - 4, '本周', 'muted', 'middle');
      else if (i % 2 === n % 2) inner += text(x(i), H - 4, w.from.slice(5).replace('-', '/'), 'muted', 'middle');
    });
    RATES.forEach(([k]) => {
      const pts = d.trend.map((w, i) => [i, w.rates[k + '_rate']]).filter((p) => p[1] != null);
      if (!pts.length) return;
      inner += '<polyline class="line c-' + k + '" points="' + pts.map(([i, r]) => x(i).toFixed(1) + ',' + y(r).toFixed(1)).join(' ') + '"/>';
      pts.forEach(([i, r]) => { inner += '<circle class="dot c-' + k + '" cx="' + x(i).toFixed(1) + '" cy="' + y(r).toFixed(1) + '" r="4"/>'; });
    });
    const legend = '<div class="legend">' + RATES.map(([k, label]) => '<span><i class="c-' + k + '"></i>' + label + '</span>').join('') + '</div>';
    el.innerHTML = legend + svg(W, H, inner);
  }

  function drawUnits(d) {
    const max = Math.max(1, ...d.units.map((u) => u.open));
    hbars($('#chart-units'), d.units.slice(0, 8).map((u) => [u.unit.name.replace(/人民政府|村民委员会/, ''), u.open, u.overdue, u.open + (u.overdue ? '/超' + u.overdue : '')]), max,
      { labelWidth: 150, noteWidth: 80, empty: '当前没有在办工单' });
  }

  function drawDims(d) {
    hbars($('#chart-dims'), DIMS.map(([k, label]) => {
      const m = d.dimensions[k];
      return [label, m.mean || 0, 0, m.mean == null ? '—' : m.mean.toFixed(2) + '分'];
    }), 5, { labelWidth: 60, noteWidth: 76, cls: 'bar dim', empty: '暂无评分' });
  }

  function drawHeat(d) {
    const h = d.heat;
    if (!h.rows.length) { $('#heat').innerHTML = '<p class="empty">近30天暂无诉求</p>'; return; }
    const level = (n) => (n === 0 ? 0 : Math.min(5, 1 + Math.floor(4 * n / Math.max(1, h.max))));
    $('#heat').innerHTML = '<table><thead><tr><th></th>' + h.categories.map((c) => '<th title="' + esc(c.name) + '">' + esc(c.name) + '</th>').join('') +
      '<th>合计</th></tr></thead><tbody>' + h.rows.slice(0, 9).map((r) => '<tr><th>' + esc(r.region.name) + '</th>' +
        r.counts.map((n) => '<td class="h' + level(n) + '">' + n + '</td>').join('') + '<td class="total">' + r.total + '</td></tr>').join('') +
      '</tbody></table>';
  }

  function drawLatest() {
    const list = $('#latest');
    const rows = data.latest;
    if (!rows.length) { list.innerHTML = '<li class="empty">暂无诉求</li>'; list.classList.remove('rolling'); return; }
    const item = (t) => '<li data-no="' + esc(t.ticket_no) + '"' + (t.fresh ? ' class="fresh"' : '') + '><span class="what">' + esc(t.category) +
      '</span><span class="state">' + esc(t.status_label) + '</span><span class="where">' + esc(t.place) + ' · ' + esc(t.ticket_no) +
      '</span><span class="age" data-at="' + esc(t.at) + '">' + ago(t.at) + '</span></li>';
    // Long lists roll (the rows twice, so the roll loops without a jump); the newest stays on top
    // of the first copy.
    const roll = rows.length > 12;
    list.innerHTML = rows.map(item).join('') + (roll ? rows.map((t) => item(Object.assign({}, t, { fresh: false }))).join('').replace(/data-no=/g, 'data-copy=') : '');
    list.classList.toggle('rolling', roll);
    rows.forEach((t) => { t.fresh = false; });
  }

  function drawOverdue(d) {
    $('#overdue-total').textContent = '共' + d.overdue.total + '件';
    $('#overdue').innerHTML = d.overdue.items.map((o) => '<li data-ticket="' + esc(o.ticket_no) + '">' + esc(o.category) + ' · ' + esc(o.place || '') +
      '<b>超时' + span(o.overdue_seconds) + '</b><span>' + esc(o.unit) + (o.holder ? '（' + esc(o.holder) + '）' : '（未签收）') + '</span></li>').join('') ||
      '<li class="empty">当前没有超期工单</li>';
  }

  function drawRedBlack(d) {
    const rb = d.redblack;
    if (!rb) { $('#redblack-week').textContent = ''; $('#redblack').innerHTML = '<p class="empty">红黑榜尚未发布</p>'; return; }
    $('#redblack-week').textContent = rb.week + ' · ' + rb.from.slice(5).replace('-', '/') + '–' + rb.to.slice(5).replace('-', '/');
    const names = (xs) => xs.map((u) => '<li>' + esc(u.unit.name.replace(/人民政府|村民委员会/, '')) + '</li>').join('');
    $('#redblack').innerHTML = (rb.tiers || []).filter((t) => t.red.length || t.black.length).map((t) => '<h3>' + esc(t.tier_label) + '</h3>' +
      '<ol class="red">' + names(t.red) + '</ol><ol class="black">' + names(t.black) + '</ol>').join('') || '<p class="empty">本周无单位达到排名条件</p>';
  }

  function render() {
    const d = data;
    $('#place').textContent = d.region.name;
    document.title = d.region.name + ' 接诉即办大屏 · 民声直达';
    drawKpi(d);
    drawTimes(d);
    drawChannels(d);
    drawHours(d);
    drawRates(d);
    drawTrend(d);
    drawUnits(d);
    drawDims(d);
    drawHeat(d);
    drawLatest();
    drawOverdue(d);
    drawRedBlack(d);
  }

  function tick() {
    $('#clock').textContent = hhmmss(new Date(Date.now() + clockSkew));
    Array.from(document.querySelectorAll('#latest .age')).forEach((el) => { el.textContent = ago(el.dataset.at); });
  }

  fit();
  tick();
  setInterval(tick, 1000);
  // Deadlines pass without an event (an order falls overdue): the panels are refetched every five
  // minutes even while the stream is live.
  setInterval(() => { if (es) refresh(); }, 300000);
  start();
})();
