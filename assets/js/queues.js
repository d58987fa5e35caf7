// 民声直达 staff console, the daily queues: SMS replies no rule understood (#/replies), appeals
// against return visits (#/appeals), the villages' contact cards and their batch printing (#/cards),
// and the SMS outbox (#/outbox). Loaded before console.js, which hands over its helpers with
// `Queues.init` and sends these routes here. The API decides who may do what; these pages show it.
'use strict';
(function () {
  const PER_PAGE = 20;
  const REPLY_STATE = { open: '待处理', done: '已处理' };
  const HANDLED_AS = { noted: '已处理', linked: '已关联工单', filed: '已转为新工单' };
  const APPEAL = { pending: '待裁定', upheld: '申诉成立', rejected: '申诉驳回' };
  const VISIT_CHANNEL = { phone: '电话回访', sms: '短信回访', visit: '上门回访', wechat: '微信回访' };
  const CARD = { active: '使用中', rotated: '已更换', revoked: '已停用' };
  const OUTBOX = { pending: '待发送', sent: '已发送', delivered: '已送达', failed: '发送失败', dead: '已放弃', suppressed: '已退订未发' };
  const KIND = { assignment: '派单通知', confirmation: '受理回执', otp: '验证码', reminder: '时限提醒', urge: '催办督办', escalation: '提级通知',
    rating_request: '评价邀请', weekly_report: '周报', recall: '改派撤回通知', proactive_done: '未诉先办办结告知',
    accepted: '签收告知' };
  const PROVIDER = { aliyun: '阿里云', tencent: '腾讯云', http: '通用网关', console: '控制台' };
  const RESENDABLE = ['dead', 'failed', 'suppressed'];
  const FROM_REPLY = 'minsheng.fromReply';

  function init(c) {
    const { $, $$, esc, time, opt, show, fieldMsg, clearMsg } = c;
    const api = Staff.api;
    let lookups = null;
    const pages = { replies: 1, appeals: 1, cards: 1, outbox: 1 };
    let preview = null; // the object URL of the card preview shown

    const say = (el, text) => { el.textContent = text; el.hidden = false; };
    const fail = (el, e) => say(el, (e && e.message) || '请求失败，请重试');
    const quiet = (...els) => els.forEach((el) => { el.hidden = true; el.textContent = ''; });
    const pager = (name, d) => {
      const n = Math.max(1, Math.ceil(d.total / (d.per_page || PER_PAGE)));
      $('#' + name + '-page').textContent = '第 ' + d.page + ' / ' + n + ' 页';
      $('#' + name + '-prev').disabled = d.page <= 1;
      $('#' + name + '-next').disabled = d.page >= n;
    };
    const unitName = (id) => { const u = lookups && lookups.units.find((x) => x.id === id); return u ? u.name : '#' + id; };
    const regionOf = (id) => lookups && lookups.regions.find((r) => r.id === id);
    /// The regions inside the signed-in person's own region (what their lists and prints may cover).
    const mine = () => {
      const own = regionOf(Staff.session().staff.region_id);
      return lookups.regions.filter((r) => !own || (r.path || '').startsWith(own.path));
    };
    async function ensureLookups() {
      if (!lookups) lookups = await c.loadLookups();
      return lookups;
    }
    /// The server's word on a field goes under that field; anything else into the form's error line.
    function refused(form, errLine, e) {
      if (!(e && e.field && fieldMsg(form, e.field, e.message))) fail(errLine, e);
    }

    /// A download for staff: fetched with the bearer token (the console keeps it in script, so a
    /// plain link would not carry it), then saved under the server's Chinese file name.
    async function fetchFile(path) {
      const go = () => fetch(path, { headers: { Authorization: 'Bearer ' + Staff.token() } });
      let r = await go();
      if (r.status === 401) {
        // Let the API helper refresh the session (or sign out), then try once more.
        await api('GET', '/api/v1/categories');
        r = await go();
      }
      if (!r.ok) {
        const data = await r.json().catch(() => ({}));
        throw data.error || { message: '下载失败（' + r.status + '）' };
      }
      const cd = r.headers.get('Content-Disposition') || '';
      const star = /filename\*=UTF-8''([^;]+)/i.exec(cd);
      const plain = /filename="([^"]+)"/i.exec(cd);
      const name = star ? decodeURIComponent(star[1]) : plain ? plain[1] : 'download';
      return { blob: await r.blob(), name };
    }
    function save(file) {
      const url = URL.createObjectURL(file.blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = file.name;
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60000);
    }
    const size = (n) => (n >= 1048576 ? (n / 1048576).toFixed(1) + ' MB' : Math.max(1, Math.round(n / 1024)) + ' KB');

    Staff.onLogout(() => {
      lookups = null;
      for (const t of ['#replies-list', '#appeals-list', '#cards-list', '#outbox-list']) $(t + ' tbody').innerHTML = '';
      $('#card-detail').hidden = true;
      $('#card-detail').innerHTML = '';
      if (preview) { URL.revokeObjectURL(preview); preview = null; }
      sessionStorage.removeItem(FROM_REPLY);
      fromReplyBanner();
    });

    // --- SMS replies no rule understood: link to a ticket, file a new one, or note and close ---
    const repliesForm = $('#replies-filters');
    async function loadReplies() {
      const err = $('#replies-error');
      err.hidden = true;
      const params = new URLSearchParams({ status: repliesForm.status.value, page: pages.replies, per_page: PER_PAGE });
      $('#replies-list').setAttribute('aria-busy', 'true');
      try {
        const d = await api('GET', '/api/v1/sms/replies?' + params);
        $('#replies-list tbody').innerHTML = d.items.map((r) => {
          const open = r.queue_status === 'open';
          const went = r.handled_ticket_no ? ' <a href="#/t/' + esc(r.handled_ticket_no) + '">' + esc(r.handled_ticket_no) + '</a>' : '';
          const state = open ? '<span class="tag amber">待处理</span>' : '<span class="tag">' + esc(HANDLED_AS[r.handled_as] || REPLY_STATE[r.queue_status] || '—') + '</span>' + went +
            (r.handled_at ? '<span class="summary">' + esc(time(r.handled_at)) + '</span>' : '') + (r.handled_note ? '<span class="summary">' + esc(r.handled_note) + '</span>' : '');
          return '<tr data-id="' + r.id + '" data-phone="' + esc(r.phone) + '" data-ticket="' + esc(r.ticket_no || '') + '">' +
            '<td data-label="收到时间" class="when">' + esc(time(r.received_at)) + '</td>' +
            '<td data-label="手机号" class="phone">' + esc(r.phone) + '</td>' +
            '<td data-label="短信内容"><span class="sms-text">' + esc(r.text) + '</span>' + (r.detail ? '<span class="summary">未自动处理：' + esc(r.detail) + '</span>' : '') + '</td>' +
            '<td data-label="相关工单">' + (r.ticket_no ? '<a href="#/t/' + esc(r.ticket_no) + '">' + esc(r.ticket_no) + '</a>' : '<span class="meta">未识别</span>') + '</td>' +
            '<td data-label="状态" class="state">' + state + '</td>' +
            '<td class="row-actions">' + (open ? '<button type="button" class="secondary" data-do="handle">处理</button>' : '') + '</td></tr>';
        }).join('') || '<tr><td colspan="6" class="meta">' + (repliesForm.status.value === 'open' ? '没有待处理的短信回复。' : '没有短信回复。') + '</td></tr>';
        $('#replies-summary').textContent = '共' + d.total + '条';
        pager('replies', d);
      } catch (e) { fail(err, e); }
      $('#replies-list').setAttribute('aria-busy', 'false');
    }

    function replyForm(tr) {
      const masked = tr.dataset.phone.includes('*');
      return '<tr class="form-row"><td colspan="6"><form class="act reply-form" novalidate>' +
        '<fieldset class="field how" data-field="how"><legend class="lbl">处理方式</legend>' +
        '<label class="check"><input type="radio" name="how" value="link" checked>关联已有工单</label>' +
        '<label class="check"><input type="radio" name="how" value="note">仅记录处理情况</label>' +
        '<label class="check"><input type="radio" name="how" value="file">据此新建工单</label><p class="field-msg" hidden></p></fieldset>' +
        '<div class="field" data-field="ticket_no"><label class="lbl" for="rf-no">工单号<span class="req" aria-hidden="true">*</span></label>' +
        '<input type="text" id="rf-no" name="ticket_no" autocomplete="off" placeholder="如 20261207-0001" value="' + esc(tr.dataset.ticket) + '" data-what="工单号"><p class="field-msg" hidden></p></div>' +
        '<div class="field" data-field="note"><label class="lbl" for="rf-note">处理说明<span class="opt">（可选，1000字以内）</span></label>' +
        '<textarea id="rf-note" name="note" data-what="处理说明"></textarea><p class="field-msg" hidden></p></div>' +
        '<p class="hint file-hint" hidden>将打开「登记来电」，已填好' + (masked ? '短信内容（您看到的号码已隐去，请向首问登记员询问完整号码）' : '手机号和短信内容') + '；登记后该回复自动标为「已转为新工单」。</p>' +
        '<p class="error form-error" role="alert" hidden></p>' +
        '<p class="form-buttons"><button class="primary small" type="submit">确认</button> <button class="secondary cancel" type="button">取消</button></p>' +
        '</form></td></tr>';
    }

    $('#replies-list tbody').addEventListener('click', (ev) => {
      const b = ev.target.closest('button[data-do=handle]');
      if (!b) return;
      const tr = b.closest('tr');
      $$('#replies-list tr.form-row').forEach((r) => r.remove());
      tr.insertAdjacentHTML('afterend', replyForm(tr));
      const form = $('form', tr.nextElementSibling);
      const sync = () => {
        const how = form.how.value;
        $('[data-field=ticket_no]', form).hidden = how !== 'link';
        $('[data-field=note]', form).hidden = how === 'file';
        $('.file-hint', form).hidden = how !== 'file';
        $('button[type=submit]', form).textContent = how === 'file' ? '去登记新工单' : how === 'link' ? '关联并标为已处理' : '标为已处理';
      };
      form.addEventListener('change', (e) => { if (e.target.name === 'how') sync(); if (e.target.name) clearMsg(form, e.target.name); });
      form.addEventListener('input', (e) => { if (e.target.name) clearMsg(form, e.target.name); });
      $('.cancel', form).addEventListener('click', () => { form.closest('tr').remove(); b.focus(); });
      form.addEventListener('submit', (e) => { e.preventDefault(); handleReply(tr, form); });
      sync();
      form.how.value === 'link' ? form.ticket_no.focus() : form.note.focus();
    });

    async function handleReply(tr, form) {
      const err = $('.form-error', form);
      err.hidden = true;
      for (const n of ['ticket_no', 'note']) clearMsg(form, n);
      const how = form.how.value;
      const id = Number(tr.dataset.id);
      if (how === 'file') return fileFromReply(tr);
      const body = {};
      const note = form.note.value.trim();
      if (note) body.note = note;
      if (how === 'link') {
        const no = form.ticket_no.value.trim();
        if (!no) { fieldMsg(form, 'ticket_no', '请填写要关联的工单号'); form.ticket_no.focus(); return; }
        body.ticket_no = no;
      }
      if ([...note].length > 1000) { fieldMsg(form, 'note', '处理说明不能超过1000个字'); return; }
      const button = $('button[type=submit]', form);
      button.disabled = true;
      try {
        const r = await api('POST', '/api/v1/sms/replies/' + id + '/handle', body);
        say($('#replies-done'), r.handled_ticket_no ? '已关联到工单 ' + r.handled_ticket_no + '，并记入该工单台账。' : '已标为已处理。');
        await loadReplies();
      } catch (e) { refused(form, err, e); button.disabled = false; }
    }

    /// Opens the registration form with the reply's phone and words; once a ticket is registered
    /// from it, the reply is marked as filed with that ticket's number.
    async function fileFromReply(tr) {
      const text = $('.sms-text', tr).textContent;
      const phone = tr.dataset.phone.includes('*') ? '' : tr.dataset.phone;
      await ensureLookups();
      $('#new-done').hidden = true;
      sessionStorage.setItem(FROM_REPLY, JSON.stringify({ id: Number(tr.dataset.id), phone, text, at: $('td.when', tr).textContent }));
      location.hash = '#/new';
      const f = $('#new-form');
      f.channel.value = 'sms';
      f.phone.value = phone;
      f.description.value = text;
      fromReplyBanner();
      // The caller's earlier requests show as for a typed number.
      f.phone.dispatchEvent(new Event('input', { bubbles: true }));
    }

    function pendingReply() {
      try { return JSON.parse(sessionStorage.getItem(FROM_REPLY) || 'null'); } catch (e) { return null; }
    }

    function fromReplyBanner(done) {
      const box = $('#from-reply');
      const p = pendingReply();
      if (done) { box.innerHTML = done; box.hidden = false; return; }
      if (!p) { box.hidden = true; box.innerHTML = ''; return; }
      box.innerHTML = '<p>正在根据 ' + esc(p.at) + ' 收到的短信回复登记新工单。登记成功后，该回复将标为「已转为新工单」。</p>' +
        '<button type="button" class="secondary" id="from-reply-cancel">不再关联此短信</button>';
      box.hidden = false;
      $('#from-reply-cancel').addEventListener('click', () => { sessionStorage.removeItem(FROM_REPLY); fromReplyBanner(); });
    }

    // The registration form (console.js) shows the new number in #new-done: mark the reply then.
    new MutationObserver(async () => {
      const done = $('#new-done');
      const no = $('#new-no', done);
      const p = pendingReply();
      if (done.hidden || !no || !p) return;
      sessionStorage.removeItem(FROM_REPLY);
      try {
        await api('POST', '/api/v1/sms/replies/' + p.id + '/handle', { ticket_no: no.textContent.trim(), filed: true });
        fromReplyBanner('<p id="from-reply-done">短信回复已标为「已转为新工单」（' + esc(no.textContent) + '）。<a href="#/replies">返回短信回复</a></p>');
      } catch (e) {
        fromReplyBanner('<p class="error">工单已登记，但短信回复未能标记：' + esc(e.message || '请求失败') + '。请到「短信回复」中关联工单 ' + esc(no.textContent) + '。</p>');
      }
    }).observe($('#new-done'), { attributes: true, childList: true, subtree: true });

    repliesForm.status.addEventListener('change', () => { pages.replies = 1; quiet($('#replies-done')); loadReplies(); });
    repliesForm.addEventListener('submit', (ev) => ev.preventDefault());
    $('#replies-prev').addEventListener('click', () => { pages.replies = Math.max(1, pages.replies - 1); loadReplies(); });
    $('#replies-next').addEventListener('click', () => { pages.replies += 1; loadReplies(); });

    async function showReplies() {
      show('replies');
      quiet($('#replies-done'));
      await loadReplies();
    }

    // --- appeals: the visit, the unit's reason and evidence; a leader decides with a reason ---
    const appealsForm = $('#appeals-filters');
    const blobs = new Map();
    async function showEvidence(root) {
      for (const img of $$('img[data-upload]', root)) {
        const src = '/api/v1/uploads/' + img.dataset.upload;
        try {
          if (!blobs.has(src)) blobs.set(src, URL.createObjectURL((await fetchFile(src)).blob));
          img.src = blobs.get(src);
          img.closest('a').href = blobs.get(src);
        } catch (e) { img.alt = '证据无法读取'; img.classList.add('broken'); }
      }
    }

    function visitCell(v) {
      if (!v) return '—';
      return esc(VISIT_CHANNEL[v.channel] || v.channel) + ' · ' + esc(time(v.at)) +
        '<span class="visit-result">' + [v.solved_label, v.satisfaction_label].filter(Boolean).map((x) => '<span class="tag red">' + esc(x) + '</span>').join('') + '</span>' +
        (v.comment ? '<span class="summary">群众意见：' + esc(v.comment) + '</span>' : '') + (v.counted ? '' : '<span class="summary">已不计入满意率</span>');
    }

    async function loadAppeals() {
      const err = $('#appeals-error');
      err.hidden = true;
      const params = new URLSearchParams({ page: pages.appeals, per_page: PER_PAGE });
      if (appealsForm.status.value) params.set('status', appealsForm.status.value);
      const leader = Staff.has('leader');
      try {
        const d = await api('GET', '/api/v1/appeals?' + params);
        $('#appeals-list tbody').innerHTML = d.items.map((a) => {
          const pending = a.status === 'pending';
          const decided = pending ? '' : '<span class="summary">' + esc(time(a.decided_at)) + '</span>' + (a.decision_note ? '<span class="summary">裁定理由：' + esc(a.decision_note) + '</span>' : '');
          return '<tr data-id="' + a.id + '">' +
            '<td data-label="工单号"><a href="#/t/' + esc(a.ticket_no) + '">' + esc(a.ticket_no) + '</a><span class="summary">申诉于 ' + esc(time(a.created_at)) + '</span></td>' +
            '<td data-label="承办单位">' + esc(unitName(a.unit_id)) + '</td>' +
            '<td data-label="回访结果">' + visitCell(a.visit) + '</td>' +
            '<td data-label="申诉理由"><span class="reason">' + esc(a.reason) + '</span>' +
              (a.upload_ids.length ? '<div class="thumbs small">' + a.upload_ids.map((u, i) => '<a href="#" target="_blank" rel="noopener"><img alt="证据' + (i + 1) + '" data-upload="' + esc(u) + '"></a>').join('') + '</div>' : '<span class="summary">未附证据</span>') + '</td>' +
            '<td data-label="状态" class="state"><span class="tag' + (pending ? ' amber' : a.status === 'upheld' ? ' green' : '') + '">' + esc(APPEAL[a.status] || a.status) + '</span>' + decided + '</td>' +
            '<td class="row-actions">' + (pending && leader ? '<button type="button" class="secondary" data-do="decide">裁定</button>' : '') + '</td></tr>';
        }).join('') || '<tr><td colspan="6" class="meta">' + (appealsForm.status.value === 'pending' ? '没有待裁定的申诉。' : '没有申诉。') + '</td></tr>';
        $('#appeals-summary').textContent = '共' + d.total + '件';
        pager('appeals', d);
        showEvidence($('#appeals-list'));
      } catch (e) { fail(err, e); }
    }

    $('#appeals-list tbody').addEventListener('click', (ev) => {
      const b = ev.target.closest('button[data-do=decide]');
      if (!b) return;
      const tr = b.closest('tr');
      $$('#appeals-list tr.form-row').forEach((r) => r.remove());
      tr.insertAdjacentHTML('afterend', '<tr class="form-row"><td colspan="6"><form class="act decide-form" novalidate>' +
        '<fieldset class="field how" data-field="upheld"><legend class="lbl">裁定<span class="req" aria-hidden="true">*</span></legend>' +
        '<label class="check"><input type="radio" name="upheld" value="true">申诉成立（该回访不计入满意率）</label>' +
        '<label class="check"><input type="radio" name="upheld" value="false">驳回申诉</label><p class="field-msg" hidden></p></fieldset>' +
        '<div class="field" data-field="note"><label class="lbl" for="df-note">裁定理由<span class="req" aria-hidden="true">*</span></label>' +
        '<textarea id="df-note" name="note" required data-what="裁定理由"></textarea><p class="field-msg" hidden></p></div>' +
        '<p class="error form-error" role="alert" hidden></p>' +
        '<p class="form-buttons"><button class="primary small" type="submit">确认裁定</button> <button class="secondary cancel" type="button">取消</button></p></form></td></tr>');
      const form = $('form', tr.nextElementSibling);
      for (const e of ['input', 'change']) form.addEventListener(e, (x) => { if (x.target.name) clearMsg(form, x.target.name); });
      $('.cancel', form).addEventListener('click', () => { form.closest('tr').remove(); b.focus(); });
      form.addEventListener('submit', async (e) => {
        e.preventDefault();
        const err = $('.form-error', form);
        err.hidden = true;
        for (const n of ['upheld', 'note']) clearMsg(form, n);
        const choice = form.querySelector('input[name=upheld]:checked');
        const note = form.note.value.trim();
        let ok = true;
        if (!choice) { fieldMsg(form, 'upheld', '请选择申诉成立或驳回'); ok = false; }
        if (!note) { fieldMsg(form, 'note', '请填写裁定理由'); ok = false; } else if ([...note].length > 1000) { fieldMsg(form, 'note', '裁定理由不能超过1000个字'); ok = false; }
        if (!ok) return;
        const button = $('button[type=submit]', form);
        button.disabled = true;
        try {
          // Only what the form says is sent: a reason is never made up here.
          const body = { upheld: choice.value === 'true', note };
          const r = await api('POST', '/api/v1/appeals/' + tr.dataset.id + '/decide', body);
          say($('#appeals-done'), '工单 ' + r.ticket_no + ' 的申诉已裁定：' + (APPEAL[r.status] || r.status) + '。');
          await loadAppeals();
        } catch (x) { refused(form, err, x); button.disabled = false; }
      });
      form.querySelector('input[name=upheld]').focus();
    });
    appealsForm.status.addEventListener('change', () => { pages.appeals = 1; quiet($('#appeals-done')); loadAppeals(); });
    appealsForm.addEventListener('submit', (ev) => ev.preventDefault());
    $('#appeals-prev').addEventListener('click', () => { pages.appeals = Math.max(1, pages.appeals - 1); loadAppeals(); });
    $('#appeals-next').addEventListener('click', () => { pages.appeals += 1; loadAppeals(); });

    async function showAppeals() {
      show('appeals');
      quiet($('#appeals-done'));
      try { await ensureLookups(); } catch (e) { /* unit names fall back to numbers */ }
      await loadAppeals();
    }

    // --- contact cards: the list by region, one card's preview and details, issue, refresh,
    // revoke, and one PDF for a township or the whole county ---
    const cardsForm = $('#cards-filters');
    const printForm = $('#print-form');
    const issueForm = $('#issue-form');
    const indent = (r) => (r.level === 'township' ? '　' : r.level === 'village' ? '　　' : '');
    const treeOrder = (list) => {
      const key = (r) => (r.path || '').split('/').filter(Boolean).map(Number);
      return list.slice().sort((a, b) => { const x = key(a); const y = key(b); for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i]; return x.length - y.length; });
    };

    async function loadCards() {
      const err = $('#cards-error');
      err.hidden = true;
      const params = new URLSearchParams({ page: pages.cards, per_page: PER_PAGE });
      if (cardsForm.region_id.value) params.set('region_id', cardsForm.region_id.value);
      if (cardsForm.status.value) params.set('status', cardsForm.status.value);
      try {
        const d = await api('GET', '/api/v1/cards?' + params);
        $('#cards-list tbody').innerHTML = d.items.map((k) =>
          '<tr data-code="' + esc(k.code) + '" class="' + (k.status === 'active' ? '' : 'off') + '">' +
          '<td data-label="村"><button type="button" class="link" data-do="open">' + esc(k.village && k.village.name) + '</button></td>' +
          '<td data-label="乡镇">' + esc((k.township && k.township.name) || '—') + '</td>' +
          '<td data-label="版本">第' + k.version + '版</td>' +
          '<td data-label="状态" class="state">' + (k.status === 'active' ? '<span class="tag green">使用中</span>' : '<span class="tag">' + esc(CARD[k.status] || k.status) + '</span>') + '</td>' +
          '<td data-label="扫码">' + k.scans_7d + ' / ' + k.scans_total + '</td>' +
          '<td data-label="更新时间" class="when">' + esc(time(k.updated_at)) + '</td>' +
          '<td class="row-actions"><button type="button" class="secondary" data-do="open">查看</button></td></tr>').join('') ||
          '<tr><td colspan="7" class="meta">该区域没有符合条件的联系卡。</td></tr>';
        $('#cards-summary').textContent = '共' + d.total + '张';
        pager('cards', d);
      } catch (e) { fail(err, e); }
    }

    async function openCard(code) {
      const box = $('#card-detail');
      box.hidden = false;
      box.innerHTML = '<p class="meta">正在打开联系卡…</p>';
      let k;
      try { k = await api('GET', '/api/v1/cards/' + encodeURIComponent(code) + '/details'); } catch (e) { box.innerHTML = '<p class="error">' + esc(e.message) + '</p>'; return; }
      const active = k.status === 'active';
      const place = [k.county, k.township, k.village].filter(Boolean).map((r) => r.name).join(' ');
      box.innerHTML = '<div class="order-head"><h2>' + esc(k.village.name) + ' 联系卡 · 第' + k.version + '版</h2><button type="button" class="secondary" id="card-close">关闭</button></div>' +
        '<div class="card-detail"><figure class="card-preview"><img id="card-img" data-for="' + esc(k.code) + '" alt="' + esc(k.village.name) + '联系卡预览"><figcaption class="meta">' + esc(place) + '</figcaption></figure>' +
        '<div><dl class="facts">' +
        '<dt>状态</dt><dd>' + esc(CARD[k.status] || k.status) + (k.revoked_at ? '（' + esc(time(k.revoked_at)) + '）' : k.rotated_at ? '（' + esc(time(k.rotated_at)) + '）' : '') + '</dd>' +
        '<dt>卡号</dt><dd class="code">' + esc(k.code) + '</dd>' +
        '<dt>二维码地址</dt><dd class="code">' + esc(k.url) + '</dd>' +
        '<dt>服务热线</dt><dd>' + esc(k.hotline) + '</dd>' +
        '<dt>联系人</dt><dd><ul class="contacts">' + (k.contacts.map((p) => '<li>' + esc(p.post) + ' ' + esc(p.name) + ' ' + esc(p.phone) + '</li>').join('') || '<li class="meta">无</li>') + '</ul></dd>' +
        '<dt>发卡</dt><dd>' + esc(time(k.created_at)) + (k.issued_by ? ' · ' + esc(k.issued_by.name) : '') + '</dd>' +
        '<dt>扫码</dt><dd>近7天 ' + k.scans_7d + ' 次，累计 ' + k.scans_total + ' 次</dd>' +
        (k.history.length ? '<dt>旧卡</dt><dd>' + k.history.map((h) => '第' + h.version + '版 ' + esc(CARD[h.status] || h.status)).join('、') + '</dd>' : '') +
        '</dl>' + (k.unprintable.length ? '<p class="error">以下字无法打印，请改用常用字：' + esc(k.unprintable.join(' ')) + '</p>' : '') +
        '<p class="buttons downloads"><button type="button" class="secondary" data-file="' + esc(k.downloads.svg) + '">下载 SVG</button><button type="button" class="secondary" data-file="' + esc(k.downloads.png) + '">下载 PNG</button>' +
        '<button type="button" class="secondary" data-file="/api/v1/cards/' + esc(k.code) + '/card.pdf">下载 PDF</button><button type="button" class="secondary" data-file="' + esc(k.downloads.poster_png) + '">张贴版 PNG</button></p>' +
        (active ? '<p class="buttons"><button type="button" class="secondary" id="card-refresh">按人员信息刷新联系人</button><button type="button" class="secondary" id="card-rotate">换发新卡</button><button type="button" class="secondary danger" id="card-revoke">停用</button></p>' : '') +
        '<p class="error" id="card-error" role="alert" hidden></p><p class="success-msg" id="card-msg" role="status" hidden></p></div></div>';
      $('#card-close').addEventListener('click', () => { box.hidden = true; box.innerHTML = ''; });
      // The preview loads while the buttons already work.
      fetchFile(k.downloads.svg).then((f) => {
        const img = document.getElementById('card-img');
        if (!img || img.dataset.for !== k.code || img.src) return; // another card opened meanwhile
        if (preview) URL.revokeObjectURL(preview);
        preview = URL.createObjectURL(f.blob);
        img.src = preview;
      }).catch((e) => { const img = document.getElementById('card-img'); if (img) img.alt = '预览无法生成：' + (e.message || ''); });
      $$('.downloads button', box).forEach((b) => b.addEventListener('click', async () => {
        b.disabled = true;
        try { save(await fetchFile(b.dataset.file)); } catch (e) { fail($('#card-error'), e); }
        b.disabled = false;
      }));
      if (!active) return;
      const act = async (b, method, path, done) => {
        const err = $('#card-error');
        err.hidden = true;
        b.disabled = true;
        try {
          const r = await api(method, path, {});
          await loadCards();
          await openCard(r.code || k.code);
          say($('#card-msg'), done(r));
        } catch (e) { fail(err, e); b.disabled = false; }
      };
      $('#card-refresh').addEventListener('click', (ev) => act(ev.target, 'POST', '/api/v1/cards/' + k.code + '/contacts/refresh',
        (r) => (r.changed ? '联系人已更新为第' + r.version + '版，二维码不变；请重新打印张贴。' : '联系人与人员信息一致，无需更新。')));
      $('#card-rotate').addEventListener('click', (ev) => act(ev.target, 'POST', '/api/v1/villages/' + k.village.id + '/cards',
        (r) => '已换发第' + r.version + '版新卡，旧卡二维码已失效。'));
      // Revoking is not undone here: a second click confirms it.
      $('#card-revoke').addEventListener('click', (ev) => {
        const b = ev.target;
        if (b.dataset.sure !== '1') { b.dataset.sure = '1'; b.textContent = '确认停用（扫码将提示已停用）'; return; }
        act(b, 'POST', '/api/v1/cards/' + k.code + '/revoke', () => '联系卡已停用。');
      });
      box.scrollIntoView({ block: 'nearest' });
    }

    $('#cards-list tbody').addEventListener('click', (ev) => {
      const b = ev.target.closest('button[data-do=open]');
      if (b) openCard(b.closest('tr').dataset.code);
    });
    for (const el of [cardsForm.region_id, cardsForm.status]) el.addEventListener('change', () => { pages.cards = 1; loadCards(); });
    cardsForm.addEventListener('submit', (ev) => ev.preventDefault());
    $('#cards-prev').addEventListener('click', () => { pages.cards = Math.max(1, pages.cards - 1); loadCards(); });
    $('#cards-next').addEventListener('click', () => { pages.cards += 1; loadCards(); });

    for (const e of ['input', 'change']) printForm.addEventListener(e, (x) => { if (x.target.name) clearMsg(printForm, x.target.name); });
    printForm.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      quiet($('#print-error'), $('#print-done'));
      clearMsg(printForm, 'copies');
      const copies = printForm.copies.value.trim();
      if (!/^\d{1,2}$/.test(copies) || +copies < 1 || +copies > 20) { fieldMsg(printForm, 'copies', '每村份数应在 1 到 20 之间'); printForm.copies.focus(); return; }
      const params = new URLSearchParams({ size: printForm.size.value, copies });
      const button = $('#print-run');
      button.disabled = true;
      button.textContent = '正在生成…';
      try {
        const f = await fetchFile('/api/v1/regions/' + printForm.region_id.value + '/cards.pdf?' + params);
        save(f);
        say($('#print-done'), '已生成「' + f.name + '」（' + size(f.blob.size) + '），请在浏览器的下载中打开打印。');
      } catch (e) { refused(printForm, $('#print-error'), e); }
      button.disabled = false;
      button.textContent = '下载PDF';
    });

    issueForm.addEventListener('change', () => clearMsg(issueForm, 'village_id'));
    issueForm.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const err = $('#issue-error');
      err.hidden = true;
      clearMsg(issueForm, 'village_id');
      const village = issueForm.village_id;
      if (!village.value) { fieldMsg(issueForm, 'village_id', '请选择村'); return; }
      const button = $('button[type=submit]', issueForm);
      button.disabled = true;
      try {
        const r = await api('POST', '/api/v1/villages/' + village.value + '/cards', {});
        say($('#cards-done'), '已为' + village.selectedOptions[0].textContent.trim() + '发放第' + r.version + '版联系卡。');
        await loadCards();
        await openCard(r.code);
      } catch (e) {
        if (e && e.field === 'id') e.field = 'village_id'; // the path's village
        refused(issueForm, err, e);
      }
      button.disabled = false;
    });

    async function showCards() {
      show('cards');
      quiet($('#cards-done'));
      try {
        await ensureLookups();
        if (!cardsForm.region_id.options.length) {
          const regions = treeOrder(mine().filter((r) => r.level !== 'grid'));
          const top = regions.filter((r) => r.level !== 'village');
          cardsForm.region_id.innerHTML = regions.map((r) => opt(r.id, indent(r) + r.name)).join('');
          printForm.region_id.innerHTML = top.map((r) => opt(r.id, indent(r) + r.name + (r.level === 'county' ? '（全县）' : ''))).join('');
          issueForm.village_id.innerHTML = opt('', '请选择村') + regions.filter((r) => r.level === 'village').map((r) => opt(r.id, r.name)).join('');
        }
        // Township staff and leaders read; only admins and township offices issue, refresh, revoke.
        issueForm.hidden = !(Staff.has('admin') || Staff.session().staff.region_level === 'township');
      } catch (e) { fail($('#cards-error'), e); }
      await loadCards();
    }

    // --- the SMS outbox: filter by status, kind, phone, ticket; resend what was given up ---
    const outboxForm = $('#outbox-filters');
    outboxForm.status.innerHTML = opt('', '全部') + Object.entries(OUTBOX).map(([k, v]) => opt(k, v)).join('');
    outboxForm.kind.innerHTML = opt('', '全部') + Object.entries(KIND).map(([k, v]) => opt(k, v)).join('');

    async function loadOutbox() {
      const err = $('#outbox-error');
      err.hidden = true;
      clearMsg(outboxForm, 'phone');
      const params = new URLSearchParams({ page: pages.outbox, per_page: PER_PAGE });
      for (const n of ['status', 'kind', 'phone', 'ticket_no']) { const v = outboxForm[n].value.trim(); if (v) params.set(n, v); }
      try {
        const d = await api('GET', '/api/v1/outbox?' + params);
        $('#outbox-list tbody').innerHTML = d.items.map((m) => {
          const bad = m.status === 'dead' || m.status === 'failed';
          return '<tr data-id="' + m.id + '" data-status="' + esc(m.status) + '" class="' + (bad ? 'late' : '') + '">' +
            '<td data-label="创建时间" class="when">' + esc(time(m.created_at)) + '</td>' +
            '<td data-label="类型">' + esc(KIND[m.kind] || m.kind) + (m.urgent ? '<span class="tag red">加急</span>' : '') + '<span class="summary">' + esc(m.body) + '</span></td>' +
            '<td data-label="收件人" class="phone">' + esc(m.phone) + '</td>' +
            '<td data-label="状态" class="state">' + esc(OUTBOX[m.status] || m.status) + (m.next_attempt_at && m.status === 'pending' ? '<span class="summary">下次 ' + esc(time(m.next_attempt_at)) + '</span>' : '') + '</td>' +
            '<td data-label="尝试次数">' + m.attempts + '</td>' +
            '<td data-label="通道">' + esc(m.channel === 'email' ? '邮件' : m.channel === 'wechat' ? '微信订阅消息' : (PROVIDER[m.provider] || m.provider || '—')) + '</td>' +
            '<td data-label="最后错误" class="last-error">' + esc(m.last_error || '—') + '</td>' +
            '<td class="row-actions">' + (RESENDABLE.includes(m.status) ? '<button type="button" class="secondary" data-do="resend">重发</button>' : '') + '</td></tr>';
        }).join('') || '<tr><td colspan="8" class="meta">没有符合条件的消息。</td></tr>';
        $('#outbox-summary').textContent = '共' + d.total + '条';
        pager('outbox', d);
      } catch (e) { refused(outboxForm, err, e); }
    }

    $('#outbox-list tbody').addEventListener('click', async (ev) => {
      const b = ev.target.closest('button[data-do=resend]');
      if (!b) return;
      const id = b.closest('tr').dataset.id;
      const err = $('#outbox-error');
      err.hidden = true;
      b.disabled = true;
      try {
        const m = await api('POST', '/api/v1/outbox/' + id + '/resend', {});
        say($('#outbox-done'), '已重新排队发送（' + (KIND[m.kind] || m.kind) + '，' + m.phone + '）。');
        await loadOutbox();
      } catch (e) { fail(err, e); b.disabled = false; }
    });
    outboxForm.addEventListener('submit', (ev) => { ev.preventDefault(); pages.outbox = 1; quiet($('#outbox-done')); loadOutbox(); });
    for (const n of ['status', 'kind']) outboxForm[n].addEventListener('change', () => { pages.outbox = 1; quiet($('#outbox-done')); loadOutbox(); });
    $('#outbox-prev').addEventListener('click', () => { pages.outbox = Math.max(1, pages.outbox - 1); loadOutbox(); });
    $('#outbox-next').addEventListener('click', () => { pages.outbox += 1; loadOutbox(); });

    async function showOutbox() {
      show('outbox');
      quiet($('#outbox-done'));
      await loadOutbox();
    }

    /// console.js's router asks here first; true when the page is one of these.
    function route(h) {
      if (h === '#/new') { fromReplyBanner(); return false; }
      const page = { '#/replies': showReplies, '#/appeals': showAppeals, '#/cards': showCards, '#/outbox': showOutbox }[h];
      if (!page) return false;
      page();
      return true;
    }

    return { route };
  }

  window.Queues = { init };
})();
