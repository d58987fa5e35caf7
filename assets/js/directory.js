// 民声直达 staff console, the county's directory: the region tree, units, request categories, and
// staff leave with a deputy (a panel under a person's row on the staff page). Loaded before
// console.js, which hands over its helpers with `Directory.init` and routes #/regions, #/units and
// #/categories here; admin.js opens the leave panel. The API decides who may do what.
'use strict';
(function () {
  const REGION_LEVEL = { county: '县', township: '乡镇', village: '村', grid: '网格' };
  const CHILD = { county: 'township', township: 'village', village: 'grid' };
  const HANDLING = { village: '村级', township: '乡镇级', county: '县级' };
  const UNIT_KIND = { committee: '村民委员会', office: '乡镇政府', department: '县直部门', center: '民生服务中心' };
  // What a new unit in a region of this level usually is.
  const UNIT_DEFAULT = { county: ['county', 'department'], township: ['township', 'office'], village: ['village', 'committee'] };
  const PER_PAGE = 20;
  const CHILDREN_PAGE = 100;

  const Directory = {};

  function init(c) {
    const { $, $$, esc, time, opt, show, check, fieldMsg, clearMsg } = c;
    const api = Staff.api;

    /// The API's word on a field goes next to that field (when the form shows it), else into `errEl`.
    function failForm(form, e, errEl) {
      const errors = e && e.errors && e.errors.length ? e.errors : e && e.field ? [{ field: e.field, message: e.message }] : [];
      let shown = 0;
      for (const x of errors) {
        const box = $('[data-field="' + x.field + '"]', form);
        if (box && !box.hidden && fieldMsg(form, x.field, x.message)) {
          shown += 1;
          const el = form.elements[x.field];
          if (shown === 1 && el && el.focus) el.focus();
        }
      }
      if (!shown) { errEl.textContent = (e && e.message) || '请求失败，请重试'; errEl.hidden = false; }
    }
    const fail = (el, e) => { el.textContent = (e && e.message) || '请求失败，请重试'; el.hidden = false; };
    const clearForm = (form, errEl) => {
      for (const el of form.elements) if (el.name) clearMsg(form, el.name);
      if (errEl) errEl.hidden = true;
    };
    const pager = (el, prev, next, page, total) => {
      const pages = Math.max(1, Math.ceil(total / PER_PAGE));
      el.textContent = '第 ' + page + ' / ' + pages + ' 页';
      prev.disabled = page <= 1;
      next.disabled = page >= pages;
    };
    for (const f of ['#region-form', '#unit-form', '#cat-form', '#leave-form']) {
      const form = $(f);
      for (const ev of ['input', 'change']) form.addEventListener(ev, (e) => { if (e.target.name) clearMsg(form, e.target.name); });
    }

    // ------------------------------------------------------------------ regions (shared lookups)
    const regions = new Map(); // id → region, every one seen
    const kids = new Map(); // id → { ids, total, page }: the children loaded so far
    let root = null; // the admin's own region, the top of the tree
    let choices = null; // regions a unit may belong to (county, townships, villages), in tree order

    const idsOf = (path) => String(path || '').split('/').filter(Boolean).map(Number);
    const keep = (items) => { items.forEach((r) => regions.set(r.id, r)); return items; };
    const byId = (a, b) => a.id - b.id;

    /// Every page of a region list (a county has some 300 villages: three requests at most).
    async function allRegions(params) {
      const out = [];
      for (let page = 1; page <= 50; page++) {
        const d = await api('GET', '/api/v1/regions?' + new URLSearchParams(Object.assign({ per_page: CHILDREN_PAGE, page }, params)));
        out.push(...keep(d.items));
        if (out.length >= d.total || !d.items.length) break;
      }
      return out;
    }

    async function ensureRoot() {
      if (root) return root;
      // Paths sort the top of the admin's scope first.
      const d = await api('GET', '/api/v1/regions?per_page=1');
      root = keep(d.items)[0] || null;
      if (!root) throw { message: '您的管辖范围内没有区域' };
      return root;
    }

    async function fetchChildren(id, page) {
      const d = await api('GET', '/api/v1/regions?' + new URLSearchParams({ parent_id: id, per_page: CHILDREN_PAGE, page }));
      const k = page === 1 || !kids.has(id) ? { ids: [], total: 0, page: 0 } : kids.get(id);
      for (const r of keep(d.items)) if (!k.ids.includes(r.id)) k.ids.push(r.id);
      k.ids.sort((a, b) => a - b);
      k.total = d.total;
      k.page = page;
      kids.set(id, k);
      return k;
    }

    /// The names above a region (below the admin's own), fetching the lists they are in if unseen.
    async function trail(r) {
      const ids = idsOf(r.path);
      const from = Math.max(0, ids.indexOf(root.id));
      const names = [];
      for (let i = from + 1; i < ids.length - 1; i++) {
        if (!regions.has(ids[i])) await fetchChildren(ids[i - 1], 1);
        const a = regions.get(ids[i]);
        names.push(a ? a.name : '#' + ids[i]);
      }
      return names.join(' › ');
    }

    /// Everything cached about regions is stale after a change (units' region choices, the work list's).
    function regionsChanged() {
      choices = null;
      c.forget();
    }

    async function regionChoices() {
      if (choices) return choices;
      await ensureRoot();
      const [townships, villages] = await Promise.all([allRegions({ level: 'township' }), allRegions({ level: 'village' })]);
      const list = [root];
      const under = (p) => (x) => x.parent_id === p.id;
      if (root.level === 'county') {
        for (const t of townships.sort(byId)) list.push(t, ...villages.filter(under(t)).sort(byId));
      } else if (root.level === 'township') {
        list.push(...villages.filter(under(root)).sort(byId));
      }
      choices = list;
      return list;
    }

    const indent = (r) => ({ county: '', township: '　', village: '　　', grid: '　　　' }[r.level] || '');
    const regionOptions = (list, selected) => list.map((r) => opt(r.id, indent(r) + r.name + (r.active ? '' : '（已停用）'), r.id === selected ? ' selected' : '')).join('');

    // ------------------------------------------------------------------ the region tree
    const tree = $('#region-tree');
    const regionForm = $('#region-form');
    const regionFormHome = regionForm.parentNode;
    let formFor = null; // { id, mode: 'add' | 'rename' | 'move' }
    let searching = '';
    let searchSeq = 0;

    function actions(r) {
      const own = r.id === root.id;
      const b = (what, label) => '<button type="button" class="secondary" data-do="' + what + '">' + label + '</button>';
      return (CHILD[r.level] && r.active ? b('add', '新增' + REGION_LEVEL[CHILD[r.level]]) : '') +
        b('rename', '改名') +
        ((r.level === 'village' || r.level === 'grid') && !own ? b('move', '迁移') : '') +
        (own ? '' : r.active ? b('off', '停用') : b('on', '启用'));
    }

    function rowHtml(r, where) {
      const open = !!CHILD[r.level];
      return '<div class="node">' +
        (open ? '<button type="button" class="toggle" data-do="toggle" aria-label="展开或收起' + esc(r.name) + '">▸</button>' : '<span class="toggle leaf" aria-hidden="true">•</span>') +
        '<span class="label"><span class="name">' + esc(r.name) + '</span><span class="tag lvl lvl-' + esc(r.level) + '">' + esc(REGION_LEVEL[r.level] || r.level) + '</span>' +
        (r.active ? '' : '<span class="tag red">已停用</span>') + (where ? '<span class="where">' + esc(where) + '</span>' : '') + '</span>' +
        '<span class="node-actions">' + actions(r) + '</span></div>';
    }

    function nodeHtml(r, where) {
      const open = !!CHILD[r.level];
      return '<li role="treeitem" data-id="' + r.id + '" data-level="' + esc(r.level) + '" class="' + (r.active ? '' : 'off') + '"' + (open ? ' aria-expanded="false"' : '') + '>' +
        rowHtml(r, where) + '<p class="node-msg" role="status" hidden></p>' + (open ? '<ul role="group" hidden></ul>' : '') + '</li>';
    }

    const liOf = (id) => tree.querySelector('li[data-id="' + id + '"]');
    const childList = (li) => li.querySelector(':scope > ul');

    function nodeMsg(li, text, bad) {
      const p = li.querySelector(':scope > .node-msg');
      p.textContent = text || '';
      p.className = 'node-msg' + (bad ? ' error' : ' ok');
      p.hidden = !text;
    }

    function markOpen(li, open) {
      childList(li).hidden = !open;
      li.setAttribute('aria-expanded', open ? 'true' : 'false');
      const t = li.querySelector(':scope > .node .toggle');
      if (t) t.textContent = open ? '▾' : '▸';
    }

    /// Draws a node's loaded children; those that were open stay open (from what is loaded).
    function renderChildren(li) {
      const id = Number(li.dataset.id);
      const k = kids.get(id);
      const ul = childList(li);
      if (!k || !ul) return;
      const wasOpen = Array.from(ul.querySelectorAll(':scope > li[aria-expanded="true"]')).map((x) => Number(x.dataset.id));
      ul.innerHTML = k.ids.map((x) => nodeHtml(regions.get(x))).join('') +
        (k.total > k.ids.length ? '<li class="more"><button type="button" class="secondary" data-do="more">再显示' + Math.min(CHILDREN_PAGE, k.total - k.ids.length) + '个（已显示' + k.ids.length + ' / ' + k.total + '）</button></li>' : '') +
        (k.total ? '' : '<li class="empty meta">还没有下级区域</li>');
      for (const x of wasOpen) {
        const child = ul.querySelector(':scope > li[data-id="' + x + '"]');
        if (child && kids.has(x)) { renderChildren(child); markOpen(child, true); }
      }
    }

    async function expand(li, open) {
      const id = Number(li.dataset.id);
      const ul = childList(li);
      if (!ul) return;
      if (open) {
        li.setAttribute('aria-busy', 'true');
        try {
          if (!kids.has(id)) await fetchChildren(id, 1);
          renderChildren(li);
        } catch (e) { nodeMsg(li, e.message, true); }
        li.removeAttribute('aria-busy');
      }
      markOpen(li, open);
    }

    async function levelCounts() {
      const n = await Promise.all(['township', 'village', 'grid'].map((l) => api('GET', '/api/v1/regions?per_page=1&level=' + l).then((d) => d.total)));
      return '乡镇 ' + n[0] + ' 个 · 村 ' + n[1] + ' 个 · 网格 ' + n[2] + ' 个';
    }

    async function drawTree() {
      closeRegionForm();
      searching = '';
      $('#region-all').hidden = true;
      tree.innerHTML = nodeHtml(root);
      await expand(liOf(root.id), true);
      try { $('#region-summary').textContent = root.name + '：' + await levelCounts(); } catch (e) { $('#region-summary').textContent = ''; }
    }

    async function drawSearch(q) {
      closeRegionForm();
      searching = q;
      $('#region-all').hidden = false;
      const seq = ++searchSeq;
      const d = await api('GET', '/api/v1/regions?' + new URLSearchParams({ q, per_page: 50 }));
      const found = keep(d.items).sort((a, b) => (a.path.length - b.path.length) || a.id - b.id);
      const rows = [];
      for (const r of found) rows.push(nodeHtml(r, await trail(r)));
      if (seq !== searchSeq || searching !== q) return; // a later search (or the whole tree) was asked for
      tree.innerHTML = rows.join('') || '<li class="empty meta">没有名称含「' + esc(q) + '」的区域</li>';
      $('#region-summary').textContent = '找到 ' + d.total + ' 个区域' + (d.total > found.length ? '，显示前 ' + found.length + ' 个，请输入更完整的名称' : '');
    }

    function closeRegionForm() {
      formFor = null;
      regionForm.hidden = true;
      regionFormHome.appendChild(regionForm);
    }

    async function openRegionForm(li, mode) {
      const r = regions.get(Number(li.dataset.id));
      clearForm(regionForm, $('#region-form-error'));
      formFor = { id: r.id, mode };
      const nameBox = $('[data-field="name"]', regionForm);
      const parentBox = $('[data-field="parent_id"]', regionForm);
      nameBox.hidden = mode === 'move';
      parentBox.hidden = mode !== 'move';
      regionForm.name.required = mode !== 'move';
      regionForm.parent_id.required = mode === 'move';
      if (mode === 'add') {
        $('#region-form-title').textContent = '在「' + r.name + '」下新增' + REGION_LEVEL[CHILD[r.level]];
        $('label', nameBox).firstChild.textContent = REGION_LEVEL[CHILD[r.level]] + '名称';
        regionForm.name.value = '';
      } else if (mode === 'rename') {
        $('#region-form-title').textContent = '修改「' + r.name + '」的名称';
        $('label', nameBox).firstChild.textContent = '新名称';
        regionForm.name.value = r.name;
      } else {
        $('#region-form-title').textContent = '将' + REGION_LEVEL[r.level] + '「' + r.name + '」迁移到另一个' + (r.level === 'village' ? '乡镇' : '村');
        regionForm.parent_id.innerHTML = opt('', '加载中…');
        // A village goes under another township; a grid under another village of its township.
        let targets = [];
        try {
          if (r.level === 'village') targets = await allRegions({ level: 'township' });
          else {
            const ids = idsOf(r.path);
            const township = ids[ids.length - 3];
            targets = kids.has(township) ? kids.get(township).ids.map((x) => regions.get(x)) : (await fetchChildren(township, 1)).ids.map((x) => regions.get(x));
          }
        } catch (e) { fail($('#region-form-error'), e); }
        targets = targets.filter((t) => t.active && t.id !== r.parent_id).sort(byId);
        const current = regions.get(r.parent_id);
        regionForm.parent_id.innerHTML = opt('', targets.length ? '请选择' + (r.level === 'village' ? '乡镇' : '村') : '没有可迁往的' + (r.level === 'village' ? '乡镇' : '村')) +
          targets.map((t) => opt(t.id, t.name)).join('');
        $('label', parentBox).firstChild.textContent = '迁移到' + (current ? '（现属' + current.name + '）' : '');
      }
      const ul = childList(li);
      if (ul) li.insertBefore(regionForm, ul); else li.appendChild(regionForm);
      regionForm.hidden = false;
      (mode === 'move' ? regionForm.parent_id : regionForm.name).focus();
    }

    /// Redraws a node's row after a change (its children stay as they are).
    function redrawNode(li) {
      const r = regions.get(Number(li.dataset.id));
      const where = li.querySelector(':scope > .node .where');
      const open = li.getAttribute('aria-expanded') === 'true';
      li.querySelector(':scope > .node').outerHTML = rowHtml(r, where ? where.textContent : '');
      li.classList.toggle('off', !r.active);
      const t = li.querySelector(':scope > .node .toggle');
      if (t && open) t.textContent = '▾';
    }

    /// Reloads a node's children if the node is on screen and open; else forgets them.
    async function refreshChildren(id) {
      kids.delete(id);
      const li = liOf(id);
      if (li && li.getAttribute('aria-expanded') === 'true') {
        await fetchChildren(id, 1);
        renderChildren(li);
      }
    }

    regionForm.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      if (!formFor) return;
      const err = $('#region-form-error');
      clearForm(regionForm, err);
      if (!check(regionForm)) return;
      const { id, mode } = formFor;
      const r = regions.get(id);
      const li = liOf(id);
      const button = $('button[type=submit]', regionForm);
      button.disabled = true;
      try {
        if (mode === 'add') {
          const made = await api('POST', '/api/v1/regions', { name: regionForm.name.value.trim(), parent_id: id });
          keep([made]);
          closeRegionForm();
          await refreshChildren(id);
          await expand(li, true);
          nodeMsg(li, '已新增' + REGION_LEVEL[made.level] + '「' + made.name + '」');
        } else if (mode === 'rename') {
          const after = await api('PATCH', '/api/v1/regions/' + id, { name: regionForm.name.value.trim() });
          keep([after]);
          closeRegionForm();
          redrawNode(li);
          nodeMsg(li, '已改名为「' + after.name + '」');
        } else {
          const to = Number(regionForm.parent_id.value);
          const after = await api('PATCH', '/api/v1/regions/' + id, { parent_id: to });
          const from = r.parent_id;
          keep([after]);
          closeRegionForm();
          // Its children's paths changed with it: loaded again when opened.
          for (const k of Array.from(kids.keys())) if (k === id || idsOf((regions.get(k) || {}).path).includes(id)) kids.delete(k);
          const target = regions.get(to);
          const msg = '已将「' + after.name + '」迁移到「' + (target ? target.name : '') + '」';
          if (searching) {
            await drawSearch(searching);
            const moved = liOf(id);
            if (moved) nodeMsg(moved, msg);
          } else {
            await refreshChildren(from);
            await refreshChildren(to);
            const parentLi = liOf(to) || liOf(from);
            if (parentLi) nodeMsg(parentLi, msg);
          }
        }
        regionsChanged();
      } catch (e) { failForm(regionForm, e, err); } finally { button.disabled = false; }
    });
    $('#region-form-cancel').addEventListener('click', closeRegionForm);

    tree.addEventListener('click', async (ev) => {
      const b = ev.target.closest('button[data-do]');
      if (!b || b.closest('form')) return;
      const li = b.closest('li[data-id]');
      if (b.dataset.do === 'more') {
        const parent = b.closest('ul').closest('li[data-id]');
        const id = Number(parent.dataset.id);
        b.disabled = true;
        try { await fetchChildren(id, kids.get(id).page + 1); renderChildren(parent); } catch (e) { b.disabled = false; nodeMsg(parent, e.message, true); }
        return;
      }
      if (!li) return;
      nodeMsg(li, '');
      const what = b.dataset.do;
      if (what === 'toggle') return expand(li, li.getAttribute('aria-expanded') !== 'true');
      if (what === 'add' || what === 'rename' || what === 'move') {
        if (formFor && formFor.id === Number(li.dataset.id) && formFor.mode === what) return closeRegionForm();
        return openRegionForm(li, what);
      }
      // Deactivate or reactivate: the API refuses a region with active ones below it.
      b.disabled = true;
      try {
        const after = await api('PATCH', '/api/v1/regions/' + li.dataset.id, { active: what === 'on' });
        keep([after]);
        redrawNode(li);
        nodeMsg(li, (after.active ? '已启用' : '已停用') + '「' + after.name + '」');
        regionsChanged();
      } catch (e) {
        b.disabled = false;
        nodeMsg(li, e.message || '操作失败', true);
      }
    });

    $('#region-search').addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const err = $('#region-error');
      err.hidden = true;
      const q = ev.target.q.value.trim();
      try { if (q) await drawSearch(q); else await drawTree(); } catch (e) { fail(err, e); }
    });
    $('#region-all').addEventListener('click', async () => {
      $('#region-search').q.value = '';
      try { await drawTree(); } catch (e) { fail($('#region-error'), e); }
    });

    async function showRegions() {
      show('regions');
      $('#region-error').hidden = true;
      try {
        await ensureRoot();
        // Opened again: what was open stays, unless nothing is drawn yet.
        if (!tree.querySelector('li')) {
          if (searching) await drawSearch(searching); else await drawTree();
        }
      } catch (e) { fail($('#region-error'), e); }
    }

    // ------------------------------------------------------------------ units
    const unitForm = $('#unit-form');
    const units = new Map();
    let unitPage = 1;
    let unitSeq = 0;
    let editingUnit = null;
    unitForm.level.innerHTML = opt('', '请选择') + Object.entries(HANDLING).map(([k, v]) => opt(k, v)).join('');
    unitForm.kind.innerHTML = opt('', '请选择') + Object.entries(UNIT_KIND).map(([k, v]) => opt(k, v)).join('');

    const regionLabel = (id) => { const r = regions.get(id); return r ? r.name : '#' + id; };

    async function fillRegionSelects() {
      const list = await regionChoices();
      const search = $('#unit-search').region_id;
      const cur = search.value;
      search.innerHTML = opt('', '全部') + regionOptions(list);
      search.value = cur;
      unitForm.region_id.innerHTML = opt('', '请选择') + regionOptions(list.filter((r) => r.active));
    }

    async function loadUnits() {
      const err = $('#unit-error');
      err.hidden = true;
      const f = $('#unit-search');
      const params = new URLSearchParams({ page: unitPage, per_page: PER_PAGE });
      if (f.q.value.trim()) params.set('q', f.q.value.trim());
      if (f.region_id.value) params.set('region_id', f.region_id.value);
      $('#unit-list').setAttribute('aria-busy', 'true');
      // Only the answer to the latest request is drawn (a region chosen, then a search sent at once).
      const seq = ++unitSeq;
      try {
        const d = await api('GET', '/api/v1/units?' + params);
        if (seq !== unitSeq) return;
        d.items.forEach((u) => units.set(u.id, u));
        $('#unit-list tbody').innerHTML = d.items.map((u) =>
          '<tr data-id="' + u.id + '" class="' + (u.active ? '' : 'off') + '">' +
          '<td data-label="单位名称"><b>' + esc(u.name) + '</b>' + (u.is_lead ? '<span class="tag">牵头</span>' : '') + '</td>' +
          '<td data-label="所属区域">' + esc(regionLabel(u.region_id)) + '</td>' +
          '<td data-label="层级">' + esc(HANDLING[u.level] || u.level) + '</td>' +
          '<td data-label="类型">' + esc(UNIT_KIND[u.kind] || u.kind) + '</td>' +
          '<td data-label="电话">' + esc(u.phone || '—') + '</td>' +
          '<td data-label="状态" class="state">' + (u.active ? '在用' : '<span class="tag red">已停用</span>') + '</td>' +
          '<td class="row-actions"><button type="button" class="secondary" data-do="edit">编辑</button> ' +
          '<button type="button" class="secondary" data-do="' + (u.active ? 'off' : 'on') + '">' + (u.active ? '停用' : '启用') + '</button></td></tr>').join('') ||
          '<tr><td colspan="7" class="meta">没有找到单位。</td></tr>';
        $('#unit-summary').textContent = '共' + d.total + '个单位';
        pager($('#unit-page'), $('#unit-prev'), $('#unit-next'), unitPage, d.total);
      } catch (e) { if (seq === unitSeq) fail(err, e); }
      if (seq === unitSeq) $('#unit-list').setAttribute('aria-busy', 'false');
    }

    function openUnitForm(u) {
      editingUnit = u || null;
      unitForm.reset();
      clearForm(unitForm, $('#unit-form-error'));
      $('#unit-form-title').textContent = u ? '编辑单位「' + u.name + '」' : '新增单位';
      if (u) {
        // A unit of a deactivated region keeps its region in the choice.
        if (!Array.from(unitForm.region_id.options).some((o) => Number(o.value) === u.region_id)) {
          unitForm.region_id.insertAdjacentHTML('beforeend', opt(u.region_id, regionLabel(u.region_id)));
        }
        unitForm.name.value = u.name;
        unitForm.region_id.value = String(u.region_id);
        unitForm.level.value = u.level;
        unitForm.kind.value = u.kind;
        unitForm.phone.value = u.phone || '';
        unitForm.is_lead.checked = !!u.is_lead;
      }
      $('#unit-form-box').hidden = false;
      unitForm.name.focus();
    }
    function closeUnitForm() { editingUnit = null; unitForm.reset(); $('#unit-form-box').hidden = true; }

    // A new unit in a village is usually its committee, in a township its government, at the county a department.
    unitForm.region_id.addEventListener('change', () => {
      const r = regions.get(Number(unitForm.region_id.value));
      const d = r && UNIT_DEFAULT[r.level];
      if (d && !editingUnit) { unitForm.level.value = d[0]; unitForm.kind.value = d[1]; clearMsg(unitForm, 'level'); clearMsg(unitForm, 'kind'); }
    });

    unitForm.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const err = $('#unit-form-error');
      clearForm(unitForm, err);
      if (!check(unitForm)) return;
      const phone = unitForm.phone.value.trim();
      const body = { name: unitForm.name.value.trim(), region_id: Number(unitForm.region_id.value), level: unitForm.level.value,
        kind: unitForm.kind.value, is_lead: unitForm.is_lead.checked };
      if (phone) body.phone = phone; else if (editingUnit) body.phone = null;
      const button = $('button[type=submit]', unitForm);
      button.disabled = true;
      try {
        const u = editingUnit ? await api('PATCH', '/api/v1/units/' + editingUnit.id, body) : await api('POST', '/api/v1/units', body);
        const was = editingUnit;
        closeUnitForm();
        $('#unit-summary').textContent = '';
        if (!was) { $('#unit-search').q.value = u.name; $('#unit-search').region_id.value = ''; unitPage = 1; }
        c.forget();
        await loadUnits();
        const tr = $('#unit-list tbody tr[data-id="' + u.id + '"]');
        if (tr) tr.classList.add('just');
        $('#unit-done').textContent = (was ? '已保存单位「' : '已新增单位「') + u.name + '」';
        $('#unit-done').hidden = false;
      } catch (e) { failForm(unitForm, e, err); } finally { button.disabled = false; }
    });
    $('#unit-new').addEventListener('click', () => { $('#unit-done').hidden = true; openUnitForm(null); });
    $('#unit-cancel').addEventListener('click', closeUnitForm);
    $('#unit-search').addEventListener('submit', (ev) => { ev.preventDefault(); unitPage = 1; $('#unit-done').hidden = true; loadUnits(); });
    $('#unit-search').region_id.addEventListener('change', () => { unitPage = 1; loadUnits(); });
    $('#unit-prev').addEventListener('click', () => { unitPage = Math.max(1, unitPage - 1); loadUnits(); });
    $('#unit-next').addEventListener('click', () => { unitPage += 1; loadUnits(); });
    $('#unit-list tbody').addEventListener('click', async (ev) => {
      const b = ev.target.closest('button[data-do]');
      if (!b) return;
      const u = units.get(Number(b.closest('tr').dataset.id));
      $('#unit-done').hidden = true;
      if (b.dataset.do === 'edit') return openUnitForm(u);
      const err = $('#unit-error');
      err.hidden = true;
      b.disabled = true;
      try {
        await api('PATCH', '/api/v1/units/' + u.id, { active: b.dataset.do === 'on' });
        c.forget();
        await loadUnits();
      } catch (e) { fail(err, e); b.disabled = false; }
    });

    async function showUnits() {
      show('units');
      $('#unit-done').hidden = true;
      try { await fillRegionSelects(); } catch (e) { fail($('#unit-error'), e); }
      await loadUnits();
    }

    // ------------------------------------------------------------------ categories
    const catForm = $('#cat-form');
    let cats = [];
    let policies = [];
    let countyUnits = [];
    let editingCat = null;
    catForm.level.innerHTML = opt('', '请选择') + Object.entries(HANDLING).map(([k, v]) => opt(k, v)).join('');

    const catByCode = (code) => cats.find((x) => x.code === code);
    const days = (m) => (m % 1440 === 0 ? m / 1440 + '天' : m % 60 === 0 ? m / 60 + '小时' : m + '分钟');
    /// The deadlines a category's ordinary requests get: its own policy, else its parent's, else the default.
    function policyOf(cat) {
      // The row for every kind of request (a kind-specific row is an exception, shown on the SLA page).
      const normal = (code) => policies.find((p) => p.category_code === code && p.priority !== 'urgent' && !p.kind) || null;
      const own = normal(cat.code);
      if (own) return { p: own, how: '' };
      const up = cat.parent_code && normal(cat.parent_code);
      if (up) return { p: up, how: '（沿用大类）' };
      const d = normal(null);
      return d ? { p: d, how: '' } : null;
    }
    const policyText = (cat) => {
      const x = policyOf(cat);
      if (!x) return '—';
      return x.p.name + x.how + ' · 办结' + days(x.p.resolve_minutes) + (x.p.signoff_required ? ' · 需四方会签' : '');
    };
    const unitLabel = (id) => { if (id == null) return '—'; const u = countyUnits.find((x) => x.id === id) || units.get(id); return u ? u.name : '#' + id; };

    function catRow(x, item) {
      return '<tr data-code="' + esc(x.code) + '" class="' + (item ? 'item' : 'top') + (x.active ? '' : ' off') + '">' +
        '<td data-label="名称" class="cat-name">' + (item ? '<span class="branch" aria-hidden="true">└</span>' : '') + '<b>' + esc(x.name) + '</b>' + (item ? '' : '<span class="tag">大类</span>') + '</td>' +
        '<td data-label="编码" class="code">' + esc(x.code) + '</td>' +
        '<td data-label="默认办理层级">' + esc(HANDLING[x.level] || x.level) + (x.auto_dispatch ? ' <span class="tag auto" title="扫码诉求由系统直接派给建议单位">自动派单</span>' : '') + '</td>' +
        '<td data-label="县级承办部门">' + esc(unitLabel(x.unit_id)) + '</td>' +
        '<td data-label="时限策略">' + esc(policyText(x)) + '</td>' +
        '<td data-label="状态" class="state">' + (x.active ? '在用' : '<span class="tag red">已停用</span>') + '</td>' +
        '<td class="row-actions"><button type="button" class="secondary" data-do="edit">编辑</button> ' +
        (item ? '' : '<button type="button" class="secondary" data-do="add">新增小项</button> ') +
        '<button type="button" class="secondary" data-do="' + (x.active ? 'off' : 'on') + '">' + (x.active ? '停用' : '启用') + '</button></td></tr>';
    }

    async function loadCategories() {
      const err = $('#cat-error');
      err.hidden = true;
      try {
        const d = await api('GET', '/api/v1/categories?all=true');
        cats = d.items;
        const order = (a, b) => (a.sort - b.sort) || (a.code < b.code ? -1 : a.code > b.code ? 1 : 0);
        const tops = cats.filter((x) => !x.parent_code || !catByCode(x.parent_code)).sort(order);
        $('#cat-list tbody').innerHTML = tops.map((t) => catRow(t, !!t.parent_code) +
          cats.filter((x) => x.parent_code === t.code).sort(order).map((x) => catRow(x, true)).join('')).join('') ||
          '<tr><td colspan="7" class="meta">还没有诉求分类。</td></tr>';
        const off = cats.filter((x) => !x.active).length;
        $('#cat-summary').textContent = '大类' + cats.filter((x) => !x.parent_code).length + '个，小项' + cats.filter((x) => x.parent_code).length + '个' + (off ? '（其中已停用' + off + '个）' : '');
      } catch (e) { fail(err, e); }
    }

    function openCatForm(cat, parent) {
      editingCat = cat || null;
      catForm.reset();
      clearForm(catForm, $('#cat-form-error'));
      const tops = cats.filter((x) => !x.parent_code && (!cat || x.code !== cat.code));
      catForm.parent_code.innerHTML = opt('', '无（这是一个大类）') + tops.map((t) => opt(t.code, t.name + (t.active ? '' : '（已停用）'))).join('');
      catForm.unit_id.innerHTML = opt('', '无') + countyUnits.filter((u) => u.active || (cat && u.id === cat.unit_id)).map((u) => opt(u.id, u.name)).join('');
      catForm.code.disabled = !!cat;
      if (cat) {
        $('#cat-form-title').textContent = '编辑分类「' + cat.name + '」';
        catForm.code.value = cat.code;
        catForm.name.value = cat.name;
        catForm.parent_code.value = cat.parent_code || '';
        catForm.level.value = cat.level;
        catForm.unit_id.value = cat.unit_id == null ? '' : String(cat.unit_id);
        catForm.sort.value = String(cat.sort);
        catForm.auto_dispatch.checked = !!cat.auto_dispatch;
        catForm.default_kind.value = cat.default_kind || '';
        $('#cf-policy').textContent = '时限策略：' + policyText(cat) + '。时限在「时限与节假日」页按分类设置。';
      } else {
        $('#cat-form-title').textContent = parent ? '在「' + parent.name + '」下新增小项' : '新增大类';
        if (parent) {
          catForm.parent_code.value = parent.code;
          catForm.level.value = parent.level;
          catForm.code.value = parent.code + '.';
          if (parent.unit_id != null) catForm.unit_id.value = String(parent.unit_id);
          catForm.default_kind.value = parent.default_kind || '';
        }
        $('#cf-policy').textContent = '新分类沿用' + (parent ? '大类' : '默认') + '的时限策略，可在「时限与节假日」页单独设置。';
      }
      $('#cat-form-box').hidden = false;
      (cat ? catForm.name : catForm.code).focus();
    }
    function closeCatForm() { editingCat = null; catForm.reset(); $('#cat-form-box').hidden = true; }

    catForm.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const err = $('#cat-form-error');
      clearForm(catForm, err);
      if (!check(catForm)) return;
      const body = { name: catForm.name.value.trim(), level: catForm.level.value, parent_code: catForm.parent_code.value || null,
        unit_id: catForm.unit_id.value ? Number(catForm.unit_id.value) : null, auto_dispatch: catForm.auto_dispatch.checked,
        default_kind: catForm.default_kind.value || null };
      if (catForm.sort.value.trim()) body.sort = Number(catForm.sort.value.trim());
      if (!editingCat) body.code = catForm.code.value.trim();
      const button = $('button[type=submit]', catForm);
      button.disabled = true;
      try {
        const saved = editingCat ? await api('PATCH', '/api/v1/categories/' + encodeURIComponent(editingCat.code), body) : await api('POST', '/api/v1/categories', body);
        const was = editingCat;
        closeCatForm();
        c.forget();
        await loadCategories();
        $('#cat-done').textContent = (was ? '已保存分类「' : '已新增分类「') + saved.name + '」（' + saved.code + '）';
        $('#cat-done').hidden = false;
      } catch (e) { failForm(catForm, e, err); } finally { button.disabled = false; }
    });
    $('#cat-new').addEventListener('click', () => { $('#cat-done').hidden = true; openCatForm(null, null); });
    $('#cat-cancel').addEventListener('click', closeCatForm);
    $('#cat-list tbody').addEventListener('click', async (ev) => {
      const b = ev.target.closest('button[data-do]');
      if (!b) return;
      const cat = catByCode(b.closest('tr').dataset.code);
      $('#cat-done').hidden = true;
      if (b.dataset.do === 'edit') return openCatForm(cat, null);
      if (b.dataset.do === 'add') return openCatForm(null, cat);
      const err = $('#cat-error');
      err.hidden = true;
      b.disabled = true;
      try {
        const after = await api('PATCH', '/api/v1/categories/' + encodeURIComponent(cat.code), { active: b.dataset.do === 'on' });
        c.forget();
        await loadCategories();
        $('#cat-done').textContent = (after.active ? '已启用' : '已停用') + '分类「' + after.name + '」';
        $('#cat-done').hidden = false;
      } catch (e) { fail(err, e); b.disabled = false; }
    });

    async function showCategories() {
      show('categories');
      $('#cat-done').hidden = true;
      try {
        await ensureRoot();
        const [p, u] = await Promise.all([api('GET', '/api/v1/sla-policies'), api('GET', '/api/v1/units?per_page=100&region_id=' + root.id)]);
        policies = p.items;
        countyUnits = u.items;
      } catch (e) { fail($('#cat-error'), e); }
      await loadCategories();
    }

    // ------------------------------------------------------------------ leave and deputies
    const leaveBox = $('#leave-box');
    const leaveHome = leaveBox.parentNode;
    const leaveForm = $('#leave-form');
    let leaveFor = null; // { id, name, unit, tr }
    /// Now in the county's time, to the minute, as the form writes times (年-月-日 时:分).
    const nowText = () => time(new Date().toISOString());
    const toIso = (v) => new Date(v.replace(' ', 'T') + ':00+08:00').toISOString();

    function leaveState(l) {
      if (l.cancelled_at) return ['cancelled', '已取消'];
      if (l.current) return ['current', '休假中'];
      return new Date(l.to) <= new Date() ? ['past', '已结束'] : ['coming', '未开始'];
    }

    function closeLeaves() {
      leaveFor = null;
      leaveBox.hidden = true;
      leaveHome.appendChild(leaveBox);
      $$('#staff-list tr.leave-row').forEach((x) => x.remove());
    }

    async function loadLeaves() {
      const who = leaveFor;
      const d = await api('GET', '/api/v1/staff/' + who.id + '/leaves');
      if (leaveFor !== who) return d;
      const items = d.items.slice().sort((a, b) => (b.from < a.from ? -1 : 1));
      $('#leave-list').innerHTML = items.map((l) => {
        const [cls, label] = leaveState(l);
        const open = !l.cancelled_at && new Date(l.to) > new Date();
        return '<li data-id="' + l.id + '" class="' + cls + '"><span class="tag' + (cls === 'current' ? ' amber' : cls === 'cancelled' ? ' red' : '') + '">' + label + '</span> ' +
          '<span class="when">' + esc(time(l.from)) + ' 至 ' + esc(time(l.to)) + '</span> ' +
          '<span>代理：<b>' + esc(l.deputy && l.deputy.name ? l.deputy.name : '#' + (l.deputy && l.deputy.id)) + '</b></span> ' +
          '<span class="meta">事由：' + esc(l.reason) + '</span>' +
          (open ? ' <button type="button" class="secondary" data-leave="cancel">取消请假</button>' : '') + '</li>';
      }).join('') || '<li class="meta">没有请假记录。</li>';
      markRow(who.tr, d.items);
      return d;
    }

    /// "休假中 · 代理：X" on a person's row while a leave runs.
    function markRow(tr, items) {
      if (!tr || !tr.isConnected) return;
      const cell = tr.querySelector('td.state');
      if (!cell) return;
      cell.querySelectorAll('.on-leave').forEach((x) => x.remove());
      const cur = items.find((l) => l.current);
      if (cur) cell.insertAdjacentHTML('beforeend', '<span class="tag amber on-leave">休假中 · 代理：' + esc(cur.deputy && cur.deputy.name) + '</span>');
    }

    async function deputies(who) {
      const d = await api('GET', '/api/v1/staff?' + new URLSearchParams({ unit_id: who.unit, per_page: 100 }));
      return d.items.filter((s) => s.active && s.id !== who.id && (s.roles || []).includes('cadre'));
    }

    Directory.leaves = async (tr) => {
      const id = Number(tr.dataset.id);
      if (leaveFor && leaveFor.id === id) return closeLeaves();
      closeLeaves();
      const name = tr.children[1].textContent;
      leaveFor = { id, name, unit: tr.dataset.unit, tr };
      tr.insertAdjacentHTML('afterend', '<tr class="leave-row"><td colspan="7"></td></tr>');
      tr.nextElementSibling.firstChild.appendChild(leaveBox);
      $('#leave-title').textContent = name + ' 的请假与代理';
      $('#leave-error').hidden = true;
      $('#leave-list').innerHTML = '<li class="meta">加载中…</li>';
      leaveForm.reset();
      clearForm(leaveForm, $('#leave-form-error'));
      leaveForm.from.value = nowText();
      leaveForm.deputy_id.innerHTML = opt('', '加载中…');
      leaveBox.hidden = false;
      const who = leaveFor;
      try {
        const [, people] = await Promise.all([loadLeaves(), deputies(who)]);
        if (leaveFor !== who) return;
        leaveForm.deputy_id.innerHTML = people.length
          ? opt('', '请选择代理人') + people.map((p) => opt(p.id, p.name + (p.phone ? '（' + p.phone + '）' : ''))).join('')
          : opt('', '本单位没有其他在职的承办干部');
      } catch (e) { fail($('#leave-error'), e); }
      leaveBox.scrollIntoView({ block: 'nearest' });
    };

    /// After the staff list is drawn: the leave panel goes home, and rows of people on leave say so.
    Directory.markLeaves = (tbody) => {
      if (!leaveBox.isConnected || (leaveFor && !leaveFor.tr.isConnected)) closeLeaves();
      const rows = Array.from(tbody.querySelectorAll('tr[data-cadre="1"]:not(.off)'));
      rows.forEach(async (tr) => {
        try { markRow(tr, (await api('GET', '/api/v1/staff/' + tr.dataset.id + '/leaves')).items); } catch (e) { /* the row stays as it is */ }
      });
    };

    leaveForm.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      if (!leaveFor) return;
      const err = $('#leave-form-error');
      clearForm(leaveForm, err);
      if (!check(leaveForm)) return;
      const body = { from: toIso(leaveForm.from.value.trim()), to: toIso(leaveForm.to.value.trim()),
        deputy_id: Number(leaveForm.deputy_id.value), reason: leaveForm.reason.value.trim() };
      const button = $('button[type=submit]', leaveForm);
      button.disabled = true;
      try {
        await api('POST', '/api/v1/staff/' + leaveFor.id + '/leaves', body);
        leaveForm.to.value = '';
        leaveForm.reason.value = '';
        leaveForm.from.value = nowText();
        await loadLeaves();
      } catch (e) { failForm(leaveForm, e, err); } finally { button.disabled = false; }
    });
    $('#leave-close').addEventListener('click', () => {
      const tr = leaveFor && leaveFor.tr;
      closeLeaves();
      if (tr) { const b = tr.querySelector('button[data-do=leave]'); if (b) b.focus(); }
    });
    $('#leave-list').addEventListener('click', async (ev) => {
      // (data-leave, not data-do: the panel sits in the staff table, whose rows' buttons use data-do)
      const b = ev.target.closest('button[data-leave]');
      if (!b || !leaveFor) return;
      // Two steps: a cancelled leave cannot be taken back.
      if (b.dataset.leave === 'cancel') { b.dataset.leave = 'cancel-yes'; b.textContent = '确认取消？'; b.classList.add('danger'); return; }
      const err = $('#leave-error');
      err.hidden = true;
      b.disabled = true;
      try {
        await api('DELETE', '/api/v1/staff/' + leaveFor.id + '/leaves/' + b.closest('li').dataset.id);
        await loadLeaves();
      } catch (e) { fail(err, e); b.disabled = false; }
    });
    Staff.onLogout(() => {
      closeLeaves();
      closeRegionForm();
      regions.clear();
      kids.clear();
      root = null;
      choices = null;
      searching = '';
      tree.innerHTML = '';
      units.clear();
      $('#unit-list tbody').innerHTML = '';
      $('#cat-list tbody').innerHTML = '';
      cats = [];
    });

    return { showRegions, showUnits, showCategories };
  }

  Directory.init = init;
  Directory.leaves = () => {};
  Directory.markLeaves = () => {};
  window.Directory = Directory;
})();
