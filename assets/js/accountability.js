// 民声直达 staff console, 追责红线 (#/accountability): the records the accountability rules wrote,
// with filters; a record's detail shows the ledger events that prove it, and an inspector moves it
// to review or closes it as 问责 (upheld) or 免责 (dismissed). Leaders read only. Loaded before
// console.js, which hands over its helpers with `Accountability.init` and sends the route here.
'use strict';
(function () {
  function init(c) {
    const { $, esc, time, show, check, fieldMsg, clearMsg } = c;
    const api = Staff.api;
    let page = 1;
    let total = 0;
    let current = null;
    const PER_PAGE = 20;

    const say = (el, text) => { el.textContent = text; el.hidden = false; };
    const quiet = (...els) => els.forEach((el) => { el.hidden = true; el.textContent = ''; });
    const mayDecide = () => Staff.has('inspector') || Staff.has('admin');
    const tagOf = (r) => (r.status === 'closed' ? (r.decision === 'upheld' ? 'red' : '') : 'amber');

    async function load() {
      const f = $('#accountability-filters');
      const err = $('#accountability-error');
      quiet(err);
      for (const n of ['from', 'to']) clearMsg(f, n);
      if (!check(f)) return;
      const q = new URLSearchParams({ page, per_page: PER_PAGE });
      for (const n of ['status', 'rule', 'from', 'to']) if (f[n].value.trim()) q.set(n, f[n].value.trim());
      const tbody = $('#accountability tbody');
      let d;
      try {
        d = await api('GET', '/api/v1/accountability?' + q);
      } catch (e) {
        if (!(e.field && fieldMsg(f, e.field, e.message))) say(err, e.message || '查询失败');
        tbody.innerHTML = '';
        return;
      }
      total = d.total;
      $('#accountability-summary').textContent = '共 ' + d.total + ' 条';
      $('#accountability-page').textContent = '第 ' + page + ' 页';
      tbody.innerHTML = d.items.map((r) => '<tr data-id="' + r.id + '">' +
        '<td data-label="规则">' + esc(r.rule_label) + '</td>' +
        '<td data-label="工单"><a href="#/t/' + esc(r.ticket_no) + '">' + esc(r.ticket_no) + '</a></td>' +
        '<td data-label="承办单位">' + esc(r.unit_name) + '</td>' +
        '<td data-label="触线时间">' + esc(time(r.breached_at)) + '</td>' +
        '<td data-label="状态"><span class="tag ' + tagOf(r) + '">' + esc(r.status_label) + '</span></td>' +
        '<td data-label="结论">' + esc(r.decision_label || '—') + '</td></tr>').join('') ||
        '<tr><td colspan="6">没有追责记录</td></tr>';
    }

    async function open(id) {
      const box = $('#accountability-detail');
      const f = $('#accountability-form');
      quiet($('#accountability-form-error'), $('#accountability-done'));
      for (const n of ['decision', 'note']) clearMsg(f, n);
      try {
        current = await api('GET', '/api/v1/accountability/' + id);
      } catch (e) {
        say($('#accountability-error'), e.message || '读取失败');
        return;
      }
      const r = current;
      $('#accountability-title').textContent = r.rule_label + ' · ' + r.ticket_no;
      $('#accountability-facts').textContent = r.unit_name + ' · 触线 ' + time(r.breached_at) + ' · ' + r.status_label +
        (r.decision_label ? ' · ' + r.decision_label : '') + (r.decision_note ? ' · ' + r.decision_note : '');
      $('#accountability-evidence').innerHTML = r.evidence.map((e) => '<li><b>' + esc(e.action_label || e.action) + '</b> ' +
        esc(time(e.at)) + ' · ' + esc(e.actor_name || '') + (e.note ? '<span class="summary">' + esc(e.note) + '</span>' : '') + '</li>').join('');
      f.reset();
      f.hidden = !mayDecide() || r.status === 'closed';
      $('#accountability-review').hidden = r.status !== 'open';
      box.hidden = false;
      box.scrollIntoView({ block: 'start' });
    }

    async function decide(status) {
      const f = $('#accountability-form');
      const err = $('#accountability-form-error');
      quiet(err);
      for (const n of ['decision', 'note']) clearMsg(f, n);
      const picked = f.querySelector('input[name=decision]:checked');
      const body = { status, note: f.note.value.trim() };
      if (status === 'closed') {
        if (!picked) { fieldMsg(f, 'decision', '办结时请选择处理结论：问责或免责'); return; }
        body.decision = picked.value;
      }
      try {
        const r = await api('POST', '/api/v1/accountability/' + current.id + '/decide', body);
        await open(r.id);
        const done = $('#accountability-done');
        done.textContent = r.status === 'closed' ? '已办结：' + r.decision_label : '已转入审查';
        done.hidden = false;
        load();
      } catch (e) {
        if (!(e.field && fieldMsg(f, e.field, e.message))) say(err, e.message || '处理失败');
      }
    }

    // The next person at this desk sees nothing of the last one's records.
    Staff.onLogout(() => {
      $('#accountability tbody').innerHTML = '';
      $('#accountability-evidence').innerHTML = '';
      $('#accountability-detail').hidden = true;
      current = null;
    });
    $('#accountability-filters').addEventListener('submit', (ev) => { ev.preventDefault(); page = 1; load(); });
    $('#accountability-prev').addEventListener('click', () => { page = Math.max(1, page - 1); load(); });
    $('#accountability-next').addEventListener('click', () => { if (page * PER_PAGE < total) { page += 1; load(); } });
    $('#accountability tbody').addEventListener('click', (ev) => {
      const tr = ev.target.closest('tr[data-id]');
      if (tr && !ev.target.closest('a')) open(tr.dataset.id);
    });
    $('#accountability-review').addEventListener('click', () => decide('reviewing'));
    $('#accountability-form').addEventListener('submit', (ev) => { ev.preventDefault(); decide('closed'); });

    /// console.js's router asks here; true when the page is this one.
    function route(h) {
      if (h !== '#/accountability') return false;
      show('accountability');
      $('#accountability-detail').hidden = true;
      $('#accountability tbody').innerHTML = '';
      page = 1;
      load();
      return true;
    }

    return { route };
  }

  window.Accountability = { init };
})();
