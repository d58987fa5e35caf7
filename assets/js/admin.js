// 民声直达 staff console, the administration pages: bulk import, staff, the audit log. Loaded before
// console.js, which hands over its helpers with `Admin.init` and routes #/import, #/staff, #/audit here.
// The API decides who may do what; these pages only show what it answers.
'use strict';
(function () {
  const KINDS = { regions: '区域', units: '单位', staff: '人员' };
  const ENTITY = { staff: '人员', unit: '单位', region: '区域', category: '分类', leave: '请假' };
  const VERB = { create: '新增', update: '修改', move: '迁移', deactivate: '停用', reactivate: '启用', reset_password: '重置密码', cancel: '取消' };
  const FIELD = { username: '用户名', name: '名称', roles: '角色', region_id: '区域', unit_id: '单位', phone: '手机号', post: '职务', active: '状态',
    hotline: '热线', parent_id: '上级', level: '层级', kind: '类型', is_lead: '牵头单位', must_change_password: '须改密码', code: '代码',
    parent_code: '上级分类', sort: '排序', path: '路径', staff_id: '请假人', deputy_id: '代理人', from: '开始', to: '结束', reason: '事由',
    cancelled_at: '取消时间' };
  const PER_PAGE = 20;

  function init(c) {
    const { $, esc, time, opt, show, check, fieldMsg, clearMsg } = c;
    const api = Staff.api;
    let lookups = null;
    let staffPage = 1;
    let auditPage = 1;
    let checked = null; // the file whose dry run found no errors
    // Names of staff seen on these pages, for audit entries that carry only an id (a password reset).
    const known = new Map();

    const regionName = (id) => { const r = lookups && lookups.regions.find((x) => x.id === id); return r ? r.name : id == null ? '—' : '#' + id; };
    const unitName = (id) => { const u = lookups && lookups.units.find((x) => x.id === id); return u ? u.name : id == null ? '—' : '#' + id; };
    const roleNames = (roles) => (roles || []).map((r) => Staff.ROLE[r] || r).join('、');
    const pager = (el, prev, next, page, total) => {
      const pages = Math.max(1, Math.ceil(total / PER_PAGE));
      el.textContent = '第 ' + page + ' / ' + pages + ' 页';
      prev.disabled = page <= 1;
      next.disabled = page >= pages;
    };
    const fail = (el, e) => { el.textContent = (e && e.message) || '请求失败'; el.hidden = false; };
    async function ensureLookups() {
      if (!lookups) lookups = await c.loadLookups();
      return lookups;
    }
    Staff.onLogout(() => {
      lookups = null;
      for (const t of ['#staff-list', '#audit-list', '#import-errors']) $(t + ' tbody').innerHTML = '';
      $('#staff-secret').hidden = true;
      $('#staff-secret').textContent = '';
      $('#import-result').hidden = true;
    });

    // --- bulk import: choose the kind, download its template, check the file, then import ---
    const importForm = $('#import-form');
    const kind = () => importForm.querySelector('input[name=kind]:checked').value;

    function importReset() {
      checked = null;
      $('#import-run').disabled = true;
      $('#import-error').hidden = true;
      $('#import-result').hidden = true;
      $('#import-errors').hidden = true;
      $('#import-errors tbody').innerHTML = '';
      clearMsg(importForm, 'file');
    }

    function importErrors(errors) {
      $('#import-errors tbody').innerHTML = errors.map((e) =>
        '<tr><td data-label="行">' + esc(e.row) + '</td><td data-label="列">' + esc(e.column || '—') + '</td><td data-label="问题">' + esc(e.message) + '</td></tr>').join('');
      $('#import-errors').hidden = false;
    }

    function importFile() {
      const f = $('#import-file').files[0];
      if (!f) { fieldMsg(importForm, 'file', '请选择要导入的文件（XLSX 或 CSV）'); $('#import-file').focus(); }
      return f;
    }

    async function sendImport(dryRun) {
      const file = importFile();
      if (!file) return;
      const k = kind();
      const data = new FormData();
      data.append('file', file, file.name);
      const buttons = [$('#import-check'), $('#import-run')];
      buttons.forEach((b) => { b.disabled = true; });
      $('#import-error').hidden = true;
      $('#import-result').hidden = true;
      $('#import-errors').hidden = true;
      try {
        const r = await api('POST', '/api/v1/imports/' + k + '?dry_run=' + dryRun, data);
        if (r.errors && r.errors.length) {
          importErrors(r.errors);
          $('#import-error').textContent = '共' + r.rows + '行，发现' + r.errors.length + '处错误，请改正后重新检查。';
          $('#import-error').hidden = false;
        } else if (dryRun) {
          checked = file;
          $('#import-result').textContent = '共' + r.rows + '行，没有错误。可以点「导入」写入。';
          $('#import-result').hidden = false;
        } else {
          checked = null;
          $('#import-result').textContent = '已导入' + KINDS[k] + r.created + '条（共' + r.rows + '行）。' + (k === 'staff' ? '导入的人员还没有密码，请在「人员」中为上岗的人重置密码。' : '');
          $('#import-result').hidden = false;
          $('#import-file').value = '';
          $('#import-name').textContent = '未选择文件';
        }
      } catch (e) {
        checked = null;
        if (e.body && Array.isArray(e.body.errors) && e.body.errors.length) importErrors(e.body.errors);
        if (!(e.field === 'file' && !e.body.errors && fieldMsg(importForm, 'file', e.message))) fail($('#import-error'), e);
      } finally {
        $('#import-check').disabled = false;
        $('#import-run').disabled = !checked;
      }
    }

    importForm.addEventListener('change', (ev) => {
      if (ev.target.name === 'kind') $('#import-template').textContent = '下载「' + KINDS[kind()] + '」模板';
      const f = $('#import-file').files[0];
      $('#import-name').textContent = f ? f.name : '未选择文件';
      importReset();
    });
    $('#import-check').addEventListener('click', () => sendImport(true));
    $('#import-run').addEventListener('click', () => sendImport(false));
    // The template needs the staff token, so it is fetched and handed to the browser as a file.
    $('#import-template').addEventListener('click', async (ev) => {
      ev.preventDefault();
      const k = kind();
      try {
        const r = await fetch('/api/v1/imports/' + k + '/template.xlsx', { headers: { Authorization: 'Bearer ' + Staff.token() } });
        if (!r.ok) throw { message: '模板下载失败（' + r.status + '）' };
        const url = URL.createObjectURL(await r.blob());
        const a = document.createElement('a');
        a.href = url;
        a.download = KINDS[k] + '导入模板.xlsx';
        document.body.appendChild(a);
        a.click();
        a.remove();
        setTimeout(() => URL.revokeObjectURL(url), 10000);
      } catch (e) { fail($('#import-error'), e); }
    });

    function showImport() {
      show('import');
    }

    // --- staff: search, deactivate / reactivate, reset password, add ---
    const staffForm = $('#staff-form');
    $('#sf-roles').innerHTML = Object.entries(Staff.ROLE).map(([k, v]) =>
      '<label class="check"><input type="checkbox" name="roles" value="' + esc(k) + '">' + esc(v) + '</label>').join('');

    function secret(who, password) {
      const box = $('#staff-secret');
      box.innerHTML = '<p><b>' + esc(who) + '</b>的临时密码（只显示这一次）：</p><p class="password" id="temp-password">' + esc(password) + '</p>' +
        '<p class="meta">请当面交给本人，不要通过短信、微信转发。本人首次登录时须改为自己的密码。</p>' +
        '<button type="button" class="secondary" id="secret-done">已交给本人，关闭</button>';
      box.hidden = false;
      $('#secret-done').addEventListener('click', () => { box.hidden = true; box.textContent = ''; });
      box.scrollIntoView({ block: 'nearest' });
    }

    async function loadStaff() {
      const err = $('#staff-error');
      err.hidden = true;
      const q = $('#staff-search').q.value.trim();
      const params = new URLSearchParams({ page: staffPage, per_page: PER_PAGE });
      if (q) params.set('q', q);
      $('#staff-list').setAttribute('aria-busy', 'true');
      try {
        const d = await api('GET', '/api/v1/staff?' + params);
        d.items.forEach((s) => known.set(s.id, s.name));
        $('#staff-list tbody').innerHTML = d.items.map((s) =>
          '<tr data-id="' + s.id + '" data-unit="' + esc(s.unit_id == null ? '' : s.unit_id) + '" data-cadre="' + ((s.roles || []).includes('cadre') && s.unit_id != null ? 1 : 0) + '" class="' + (s.active ? '' : 'off') + '">' +
          '<td data-label="用户名">' + esc(s.username) + '</td>' +
          '<td data-label="姓名">' + esc(s.name) + '</td>' +
          '<td data-label="角色">' + esc(roleNames(s.roles)) + '</td>' +
          '<td data-label="单位">' + esc(s.unit_id != null ? unitName(s.unit_id) : regionName(s.region_id)) + '</td>' +
          '<td data-label="手机号">' + esc(s.phone || '—') + '</td>' +
          '<td data-label="状态" class="state">' + (s.active ? '在用' : '<span class="tag red">已停用</span>') + (s.must_change_password ? '<span class="tag amber">待改密码</span>' : '') + '</td>' +
          '<td class="row-actions"><button type="button" class="secondary" data-do="' + (s.active ? 'off' : 'on') + '">' + (s.active ? '停用' : '启用') + '</button> ' +
          '<button type="button" class="secondary" data-do="reset">重置密码</button>' +
          (s.active && (s.roles || []).includes('cadre') && s.unit_id != null ? ' <button type="button" class="secondary" data-do="leave">请假</button>' : '') + '</td></tr>').join('') ||
          '<tr><td colspan="7" class="meta">没有找到人员。</td></tr>';
        $('#staff-summary').textContent = '共' + d.total + '人';
        pager($('#staff-page'), $('#staff-prev'), $('#staff-next'), staffPage, d.total);
        if (window.Directory) window.Directory.markLeaves($('#staff-list tbody'));
      } catch (e) { fail(err, e); }
      $('#staff-list').setAttribute('aria-busy', 'false');
    }

    $('#staff-list tbody').addEventListener('click', async (ev) => {
      const b = ev.target.closest('button[data-do]');
      if (!b) return;
      const tr = b.closest('tr');
      // Leave and deputies live in directory.js, in a panel under the row.
      if (b.dataset.do === 'leave') return window.Directory.leaves(tr);
      const id = tr.dataset.id;
      const name = tr.children[1].textContent;
      const err = $('#staff-error');
      err.hidden = true;
      b.disabled = true;
      try {
        if (b.dataset.do === 'reset') {
          const r = await api('POST', '/api/v1/staff/' + id + '/reset-password', {});
          secret(name, r.temporary_password);
        } else {
          await api('PATCH', '/api/v1/staff/' + id, { active: b.dataset.do === 'on' });
        }
        await loadStaff();
      } catch (e) { fail(err, e); b.disabled = false; }
    });
    $('#staff-search').addEventListener('submit', (ev) => { ev.preventDefault(); staffPage = 1; loadStaff(); });
    $('#staff-prev').addEventListener('click', () => { staffPage = Math.max(1, staffPage - 1); loadStaff(); });
    $('#staff-next').addEventListener('click', () => { staffPage += 1; loadStaff(); });
    $('#staff-new').addEventListener('click', () => {
      $('#staff-form-box').hidden = false;
      $('#staff-secret').hidden = true;
      staffForm.username.focus();
    });
    $('#staff-cancel').addEventListener('click', () => { staffForm.reset(); $('#staff-form-box').hidden = true; });

    staffForm.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const err = $('#staff-form-error');
      err.hidden = true;
      for (const n of ['username', 'name', 'region_id', 'unit_id', 'phone', 'roles']) clearMsg(staffForm, n);
      const roles = Array.from(staffForm.querySelectorAll('input[name=roles]:checked')).map((x) => x.value);
      let ok = check(staffForm);
      if (!roles.length) { fieldMsg(staffForm, 'roles', '请至少选择一个角色'); ok = false; }
      if (!ok) return;
      const body = { username: staffForm.username.value.trim(), name: staffForm.name.value.trim(), roles, region_id: Number(staffForm.region_id.value) };
      if (staffForm.unit_id.value) body.unit_id = Number(staffForm.unit_id.value);
      if (staffForm.phone.value.trim()) body.phone = staffForm.phone.value.trim();
      const button = $('button[type=submit]', staffForm);
      button.disabled = true;
      try {
        const r = await api('POST', '/api/v1/staff', body);
        staffForm.reset();
        $('#staff-form-box').hidden = true;
        secret(body.name + '（' + r.username + '）', r.temporary_password);
        // The list then shows the new person (it is ordered by when people were added).
        staffPage = 1;
        $('#staff-search').q.value = r.username;
        await loadStaff();
      } catch (e) {
        const errors = e.errors && e.errors.length ? e.errors : e.field ? [{ field: e.field, message: e.message }] : [];
        const shown = errors.filter((x) => fieldMsg(staffForm, x.field, x.message)).length;
        if (!shown) fail(err, e);
      } finally { button.disabled = false; }
    });

    async function showStaff() {
      show('staff');
      try {
        await ensureLookups();
        if (!$('#sf-region').options.length) {
          $('#sf-region').innerHTML = opt('', '请选择') + lookups.regions.map((r) =>
            opt(r.id, (r.level === 'village' ? '　' : r.level === 'grid' ? '　　' : '') + r.name)).join('');
          $('#sf-unit').innerHTML = opt('', '无') + lookups.units.map((u) => opt(u.id, u.name)).join('');
        }
      } catch (e) { fail($('#staff-error'), e); }
      await loadStaff();
    }

    // --- the audit log: who changed what, the changed fields before → after ---
    function value(key, v) {
      if (v == null || v === '') return '—';
      if (key === 'active') return v ? '在用' : '停用';
      if (typeof v === 'boolean') return v ? '是' : '否';
      if (key === 'roles') return roleNames(v);
      if (key === 'region_id' || key === 'parent_id') return regionName(v);
      if (key === 'unit_id') return unitName(v);
      return Array.isArray(v) ? v.join('、') : typeof v === 'object' ? JSON.stringify(v) : String(v);
    }

    function diff(e) {
      const before = e.before || {};
      const after = e.after || {};
      const keys = Object.keys(Object.assign({}, before, after)).filter((k) => k !== 'id' && k !== 'path' &&
        JSON.stringify(before[k]) !== JSON.stringify(after[k]));
      if (!keys.length) return '<span class="meta">无字段变化</span>';
      const created = !e.before;
      return '<ul class="diff">' + keys.map((k) => '<li><span class="k">' + esc(FIELD[k] || k) + '：</span>' +
        (created ? '' : '<del>' + esc(value(k, before[k])) + '</del> → ') + '<ins>' + esc(value(k, after[k])) + '</ins></li>').join('') + '</ul>';
    }

    async function loadAudit() {
      const err = $('#audit-error');
      err.hidden = true;
      const params = new URLSearchParams({ page: auditPage, per_page: PER_PAGE });
      const entity = $('#audit-filters').entity.value;
      if (entity) params.set('entity', entity);
      try {
        const d = await api('GET', '/api/v1/audit?' + params);
        const named = (e) => (e.after && e.after.name) || (e.before && e.before.name);
        d.items.forEach((e) => { if (e.entity === 'staff' && named(e)) known.set(Number(e.entity_id), named(e)); });
        $('#audit-list tbody').innerHTML = d.items.map((e) => {
          const obj = named(e) || (e.entity === 'staff' && known.get(Number(e.entity_id))) || '#' + e.entity_id;
          return '<tr data-entity="' + esc(e.entity) + '" data-id="' + esc(e.entity_id) + '">' +
            '<td data-label="时间" class="due">' + esc(time(e.at)) + '</td>' +
            '<td data-label="操作人">' + esc(e.actor && e.actor.name) + '</td>' +
            '<td data-label="操作">' + esc(VERB[e.action] || e.action) + '</td>' +
            '<td data-label="对象">' + esc(ENTITY[e.entity] || e.entity) + ' · ' + esc(obj) + '</td>' +
            '<td data-label="变更">' + diff(e) + '</td></tr>';
        }).join('') || '<tr><td colspan="5" class="meta">没有记录。</td></tr>';
        $('#audit-summary').textContent = '共' + d.total + '条';
        pager($('#audit-page'), $('#audit-prev'), $('#audit-next'), auditPage, d.total);
      } catch (e) { fail(err, e); }
    }
    $('#audit-filters').entity.addEventListener('change', () => { auditPage = 1; loadAudit(); });
    $('#audit-filters').addEventListener('submit', (ev) => { ev.preventDefault(); });
    $('#audit-prev').addEventListener('click', () => { auditPage = Math.max(1, auditPage - 1); loadAudit(); });
    $('#audit-next').addEventListener('click', () => { auditPage += 1; loadAudit(); });

    async function showAudit() {
      show('audit');
      try { await ensureLookups(); } catch (e) { /* names fall back to numbers */ }
      await loadAudit();
    }

    return { showImport, showStaff, showAudit };
  }

  window.Admin = { init };
})();
