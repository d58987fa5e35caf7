// 民声直达 staff console, 热点 (#/hotspots): requests per category and village (or township) for a
// period, the change against the period before and the repeat clusters. A dispatcher turns a hotspot
// into a proactive ticket (未诉先办) with the requests that raised it linked. Loaded before
// console.js, which hands over its helpers with `Hotspots.init` and sends the route here.
'use strict';
(function () {
  const MAX_LINKS = 50;
  const STATUS = { submitted: '已提交', registered: '已登记', dispatched: '已派单', accepted: '已签收', in_progress: '办理中', resolved: '已办结', visited: '已回访', closed: '已归档', reopened: '重办', referred: '已下交', paused: '已挂起' };

  function init(c) {
    const { $, $$, esc, time, show, check, fieldMsg, clearMsg } = c;
    const api = Staff.api;
    let period = null;
    let items = [];

    const say = (el, text) => { el.textContent = text; el.hidden = false; };
    const quiet = (...els) => els.forEach((el) => { el.hidden = true; el.textContent = ''; });
    // Only a dispatcher (or an admin) raises proactive tickets; others see the numbers.
    const mayRaise = () => Staff.has('dispatcher') || Staff.has('admin');
    const change = (n) => (n > 0 ? '<span class="up">↑ ' + n + '</span>' : n < 0 ? '<span class="down">↓ ' + -n + '</span>' : '—');

    async function load() {
      const f = $('#hotspots-filters');
      const err = $('#hotspots-error');
      quiet(err);
      for (const n of ['from', 'to']) clearMsg(f, n);
      if (!check(f)) return;
      const q = new URLSearchParams();
      for (const n of ['from', 'to', 'level', 'min']) if (f[n].value) q.set(n, f[n].value.trim());
      const tbody = $('#hotspots tbody');
      try {
        period = await api('GET', '/api/v1/stats/hotspots?' + q);
      } catch (e) {
        if (!(e.field && fieldMsg(f, e.field, e.message))) say(err, e.message || '查询失败');
        tbody.innerHTML = '';
        return;
      }
      items = period.items;
      $('#hotspots-period').textContent = period.region.name + ' · ' + period.from + ' 至 ' + period.to +
        '（对比上期 ' + period.previous_from + ' 至 ' + period.previous_to + '）· 共 ' + period.total + ' 处';
      tbody.innerHTML = items.map((h, i) => '<tr data-i="' + i + '">' +
        '<td data-label="分类">' + esc(h.category.name) + '</td>' +
        '<td data-label="地区">' + esc(h.region.name) + (h.township ? '<span class="summary">' + esc(h.township) + '</span>' : '') + '</td>' +
        '<td data-label="件数" class="num">' + h.count + '</td><td data-label="上期" class="num">' + h.previous + '</td>' +
        '<td data-label="变化" class="num">' + change(h.change) + '</td><td data-label="不同号码" class="num">' + h.phones + '</td>' +
        '<td data-label="重复聚集">' + (h.cluster ? '<span class="tag red">重复聚集</span>' : '—') + '</td>' +
        '<td data-label="未诉先办">' + (mayRaise() ? '<button type="button" class="small raise" data-i="' + i + '">未诉先办</button>' : '—') + '</td></tr>').join('') ||
        '<tr><td colspan="8">该时段没有热点</td></tr>';
    }

    /// The requests behind a hotspot: the period's tickets of that category under that place, not
    /// merged or invalid, none of them proactive themselves (the API checks the same again).
    async function requestsOf(h) {
      const q = new URLSearchParams({ category: h.category.code, region_id: h.region.id, from: period.from, to: period.to, per_page: 100 });
      const d = await api('GET', '/api/v1/tickets?' + q);
      return d.items.filter((t) => t.channel !== 'proactive' && t.status !== 'merged' && t.status !== 'invalid').slice(0, MAX_LINKS);
    }

    async function openForm(h) {
      const box = $('#proactive-box');
      const f = $('#proactive-form');
      f.reset();
      for (const n of ['kind', 'priority', 'description', 'linked_tickets']) clearMsg(f, n);
      quiet($('#proactive-error'), $('#proactive-done'));
      f.hidden = false;
      f.region_id.value = h.region.id;
      f.category.value = h.category.code;
      $('#proactive-region').textContent = (h.township ? h.township + ' / ' : '') + h.region.name;
      $('#proactive-category').textContent = h.category.name;
      f.description.value = h.region.name + '近期有' + h.count + '件「' + h.category.name + '」诉求（' + h.phones + '个不同号码），请统一排查、集中办理。';
      const list = $('#proactive-linked');
      list.innerHTML = '<li class="meta">正在列出相关诉求…</li>';
      box.hidden = false;
      box.scrollIntoView({ block: 'start' });
      try {
        const reqs = await requestsOf(h);
        list.innerHTML = reqs.map((t) => '<li><label class="check"><input type="checkbox" name="linked" value="' + esc(t.no) + '" checked> ' +
          '<b>' + esc(t.no) + '</b> <span class="status">' + esc(STATUS[t.status] || t.status_label || t.status) + '</span> ' +
          esc(t.phone) + ' · ' + esc(time(t.created_at)) + '<span class="summary">' + esc(t.summary) + '</span></label></li>').join('') ||
          '<li class="meta">没有可关联的诉求</li>';
      } catch (e) {
        list.innerHTML = '<li class="error">' + esc(e.message) + '</li>';
      }
      f.description.focus();
    }

    // The next person at this desk sees nothing of the last one's requests.
    Staff.onLogout(() => {
      $('#hotspots tbody').innerHTML = '';
      $('#proactive-linked').innerHTML = '';
      $('#proactive-box').hidden = true;
    });
    $('#hotspots-filters').addEventListener('submit', (ev) => { ev.preventDefault(); load(); });
    $('#hotspots tbody').addEventListener('click', (ev) => {
      const b = ev.target.closest('button.raise');
      if (b) openForm(items[Number(b.dataset.i)]);
    });
    $('#proactive-cancel').addEventListener('click', () => { $('#proactive-box').hidden = true; });
    $('#proactive-form').addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const f = ev.target;
      const err = $('#proactive-error');
      quiet(err);
      for (const n of ['kind', 'priority', 'description', 'linked_tickets']) clearMsg(f, n);
      if (!check(f)) return;
      const linked = $$('input[name=linked]:checked', f).map((x) => x.value);
      if (!linked.length) { fieldMsg(f, 'linked_tickets', '请至少关联一件诉求'); return; }
      const body = { region_id: Number(f.region_id.value), channel: 'proactive', category: f.category.value, kind: f.kind.value,
        priority: f.priority.value, description: f.description.value.trim(), linked_tickets: linked };
      const btn = $('button[type=submit]', f);
      btn.disabled = true;
      try {
        const r = await api('POST', '/api/v1/tickets', body);
        f.hidden = true;
        const done = $('#proactive-done');
        done.innerHTML = '已发起未诉先办工单 <a id="proactive-no" href="#/t/' + esc(r.ticket_no) + '">' + esc(r.ticket_no) + '</a>，关联诉求' + linked.length + '件，请派单办理。';
        done.hidden = false;
      } catch (e) {
        if (!(e.field && fieldMsg(f, e.field, e.message))) say(err, e.message || '发起失败');
      } finally {
        btn.disabled = false;
      }
    });

    async function showHotspots() {
      show('hotspots');
      $('#proactive-box').hidden = true;
      // Never another person's (or an older) table while this one loads.
      $('#hotspots tbody').innerHTML = '';
      await load();
    }

    /// console.js's router asks here; true when the page is this one.
    function route(h) {
      if (h !== '#/hotspots') return false;
      showHotspots();
      return true;
    }

    return { route };
  }

  window.Hotspots = { init };
})();
