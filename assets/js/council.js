// 民声直达 staff console, 村民议事会 (#/council): the council members of each village in the caller's
// scope — listed, added, retired or taken back. Loaded before console.js, which hands over its
// helpers with `Council.init` and sends the route here. The API decides who may do what.
'use strict';
(function () {
  function init(c) {
    const { $, esc, show, check, fieldMsg, clearMsg, opt, loadLookups } = c;
    const api = Staff.api;
    let village = null;
    // Only the latest load may draw: an answer for a village chosen earlier that arrives after the
    // one for the village chosen now is dropped, not drawn over it.
    let loadSeq = 0;

    const say = (el, text) => { el.textContent = text; el.hidden = false; };
    const quiet = (...els) => els.forEach((el) => { el.hidden = true; el.textContent = ''; });

    async function villages() {
      const lookups = await loadLookups();
      const sel = $('#council-village');
      if (!sel.options.length) {
        const list = lookups.regions.filter((r) => r.level === 'village' && r.active !== false);
        sel.innerHTML = list.map((r) => opt(r.id, r.name)).join('');
      }
      return sel;
    }

    async function load() {
      const mine = ++loadSeq;
      const err = $('#council-error');
      quiet(err);
      const sel = await villages();
      if (mine !== loadSeq) return;
      village = sel.value;
      const tbody = $('#council-members tbody');
      if (!village) { tbody.innerHTML = ''; $('#council-summary').textContent = '您的范围内没有村'; return; }
      $('#council-notices').href = '/v/' + encodeURIComponent(village) + '/notices';
      let d;
      try {
        d = await api('GET', '/api/v1/villages/' + encodeURIComponent(village) + '/council');
      } catch (e) {
        if (mine !== loadSeq) return;
        say(err, e.message || '查询失败');
        tbody.innerHTML = '';
        return;
      }
      if (mine !== loadSeq) return;
      $('#council-min').textContent = d.min_members;
      const title = $('#cm-title');
      if (!title.options.length) title.innerHTML = d.titles.map((t) => opt(t, t)).join('');
      const active = d.items.filter((m) => m.active).length;
      $('#council-summary').textContent = d.village.name + '：在任成员 ' + active + ' 人' + (active < d.min_members ? '（不足' + d.min_members + '人，无法合议）' : '');
      tbody.innerHTML = d.items.map((m) => '<tr data-id="' + m.id + '"' + (m.active ? '' : ' class="unranked"') + '>' +
        '<td data-label="姓名">' + esc(m.name) + '</td><td data-label="身份">' + esc(m.title) + '</td>' +
        '<td data-label="电话">' + esc(m.phone || '—') + '</td><td data-label="状态">' + (m.active ? '在任' : '<span class="tag">已停用</span>') + '</td>' +
        '<td data-label="操作"><button type="button" class="secondary small" data-active="' + (m.active ? 'false' : 'true') + '">' + (m.active ? '停用' : '启用') + '</button></td></tr>').join('') ||
        '<tr><td colspan="5">该村还没有议事会成员</td></tr>';
    }

    $('#council-village').addEventListener('change', () => { quiet($('#council-done')); load(); });
    $('#council-members tbody').addEventListener('click', async (ev) => {
      const b = ev.target.closest('button[data-active]');
      if (!b) return;
      const id = b.closest('tr').dataset.id;
      b.disabled = true;
      try {
        const m = await api('PATCH', '/api/v1/villages/' + village + '/council/' + id, { active: b.dataset.active === 'true' });
        await load();
        say($('#council-done'), (m.active ? '已启用 ' : '已停用 ') + m.name);
      } catch (e) {
        say($('#council-error'), e.message || '操作失败');
        b.disabled = false;
      }
    });
    const form = $('#council-form');
    for (const ev of ['input', 'change']) form.addEventListener(ev, (e) => { if (e.target.name) clearMsg(form, e.target.name); });
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const err = $('#council-form-error');
      quiet(err, $('#council-done'));
      for (const n of ['name', 'title', 'phone']) clearMsg(form, n);
      if (!check(form)) return;
      const body = { name: form.elements['name'].value.trim(), title: form.elements['title'].value };
      if (form.elements['phone'].value.trim()) body.phone = form.elements['phone'].value.trim();
      const btn = $('button[type=submit]', form);
      btn.disabled = true;
      try {
        const m = await api('POST', '/api/v1/villages/' + village + '/council', body);
        form.elements['name'].value = '';
        form.elements['phone'].value = '';
        await load();
        say($('#council-done'), '已添加 ' + m.name + '（' + m.title + '）');
      } catch (e) {
        if (!(e.field && fieldMsg(form, e.field, e.message))) say(err, e.message || '添加失败');
      } finally {
        btn.disabled = false;
      }
    });
    Staff.onLogout(() => {
      $('#council-members tbody').innerHTML = '';
      $('#council-village').innerHTML = '';
      village = null;
    });

    /// console.js's router asks here; true when the page is this one.
    function route(h) {
      if (h !== '#/council') return false;
      show('council');
      load();
      return true;
    }

    return { route };
  }

  window.Council = { init };
})();
