// 民声直达 staff console, 大屏管理 (#/screens, admins): the hall screens of the admin's regions. A new
// screen's link (with its read-only token) is shown once, to open on the hall PC; a screen whose PC
// is lost or replaced is stopped at once (its open page goes dark at the next heartbeat). Loaded
// before console.js, which hands over its helpers with `Screens.init` and sends the route here.
'use strict';
(function () {
  function init(c) {
    const { $, esc, time, show, check, fieldMsg, clearMsg } = c;
    const api = Staff.api;
    let regions = null;

    const say = (el, text) => { el.textContent = text; el.hidden = !text; };

    async function loadRegions() {
      if (regions) return regions;
      const d = await api('GET', '/api/v1/regions?per_page=100');
      regions = d.items.filter((r) => r.level === 'county' || r.level === 'township');
      $('#screen-form').region_id.innerHTML = regions.map((r) =>
        '<option value="' + r.id + '">' + (r.level === 'township' ? '　' : '') + esc(r.name) + '</option>').join('');
      return regions;
    }

    async function list() {
      const rows = (await api('GET', '/api/v1/screens')).items;
      $('#screens tbody').innerHTML = rows.map((s) => '<tr data-screen="' + s.id + '"' + (s.active ? '' : ' class="muted"') + '>' +
        '<td data-label="名称">' + esc(s.name) + '</td>' +
        '<td data-label="地区">' + esc(s.region_name || '') + '</td>' +
        '<td data-label="创建">' + esc(time(s.created_at)) + '</td>' +
        '<td data-label="状态">' + (s.active ? '使用中' : '已停用 ' + esc(time(s.revoked_at))) + '</td>' +
        '<td data-label="">' + (s.active ? '<button type="button" class="small danger" data-revoke="' + s.id + '">停用</button>' : '') + '</td></tr>').join('') ||
        '<tr><td colspan="5">还没有大屏</td></tr>';
    }

    async function showScreens() {
      show('screens');
      say($('#screens-error'), '');
      try {
        await loadRegions();
        await list();
      } catch (e) {
        say($('#screens-error'), e.message || '加载失败');
      }
    }

    $('#screen-form').addEventListener('submit', async (e) => {
      e.preventDefault();
      const f = e.target;
      clearMsg(f, 'name');
      say($('#screens-error'), '');
      if (!check(f)) return;
      try {
        const made = await api('POST', '/api/v1/screens', { name: f.name.value.trim(), region_id: Number(f.region_id.value) });
        $('#screen-link').value = made.url;
        $('#screen-made').hidden = false;
        $('#screen-made-name').textContent = made.name;
        f.name.value = '';
        await list();
      } catch (err) {
        if (!(err.field && fieldMsg(f, err.field, err.message))) say($('#screens-error'), err.message || '创建失败');
      }
    });

    $('#screen-copy').addEventListener('click', async () => {
      const input = $('#screen-link');
      input.select();
      try { await navigator.clipboard.writeText(input.value); say($('#screen-copied'), '已复制'); } catch (e) { say($('#screen-copied'), '请手动复制'); }
    });

    $('#screens').addEventListener('click', async (e) => {
      const b = e.target.closest('button[data-revoke]');
      if (!b) return;
      const row = b.closest('tr');
      if (!window.confirm('停用后，该大屏立即无法显示数据，且无法恢复（可另建新链接）。确定停用？')) return;
      try {
        await api('DELETE', '/api/v1/screens/' + b.dataset.revoke);
        await list();
      } catch (err) {
        say($('#screens-error'), err.message || '停用失败');
        row.classList.add('failed');
      }
    });

    function route(h) {
      if (h !== '#/screens') return false;
      showScreens();
      return true;
    }

    return { route };
  }

  window.Screens = { init };
})();
