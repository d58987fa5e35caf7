// 民声直达 staff pages (the console and the caller desk): one sign-in, one session, one way to call
// the API. The session lives in this tab's sessionStorage under one key, so signing in on either
// page serves both and signing out of one signs out of both. Access tokens are refreshed once on
// expiry; refresh tokens rotate and a used one is refused (and ends the login), so requests that
// expire together share one refresh and the new refresh token replaces the old.
'use strict';
(function () {
  const KEY = 'minsheng.session';
  const store = window.sessionStorage;
  let session = null;
  try { session = JSON.parse(store.getItem(KEY) || 'null'); } catch (e) { session = null; }
  const outs = [];
  const passwordNeeded = [];
  let refreshing = null;

  function refreshed() {
    if (refreshing) return refreshing;
    const mine = session;
    refreshing = (async () => {
      const rr = await fetch('/api/v1/auth/refresh', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ refresh_token: mine.refresh_token }) });
      if (!rr.ok) return false;
      const t = await rr.json();
      mine.access_token = t.access_token;
      mine.refresh_token = t.refresh_token;
      if (session === mine) store.setItem(KEY, JSON.stringify(mine));
      return true;
    })().finally(() => { refreshing = null; });
    return refreshing;
  }

  function logout() {
    session = null;
    store.removeItem(KEY);
    // The next person at this desk sees nothing of the last one's orders.
    outs.forEach((f) => f());
  }

  async function api(method, path, body) {
    // A FormData body (an upload) goes as multipart; the browser sets its boundary.
    const multipart = typeof FormData !== 'undefined' && body instanceof FormData;
    const go = () => fetch(path, {
      method,
      headers: Object.assign({ Accept: 'application/json' }, body && !multipart ? { 'Content-Type': 'application/json' } : {}, session ? { Authorization: 'Bearer ' + session.access_token } : {}),
      body: multipart ? body : body ? JSON.stringify(body) : undefined,
    });
    const used = session;
    const token = session && session.access_token;
    let r = await go();
    // A request whose 401 comes back after another one's refresh finished just tries again with
    // the new token: a second refresh would spend a rotation for nothing.
    if (r.status === 401 && session && session === used && session.refresh_token &&
        (session.access_token !== token || await refreshed())) {
      r = await go();
    }
    // A late answer to a request of an earlier session must not sign out whoever is in now.
    if (r.status === 401) { if (session === used) logout(); throw { message: '登录已过期，请重新登录' }; }
    if (r.status === 204) return null;
    const data = await r.json().catch(() => ({}));
    if (!r.ok) {
      const err = data.error || { message: '请求失败（' + r.status + '）' };
      // A temporary password opens nothing but the form that changes it.
      if (err.code === 'password_change_required' && session && session === used) {
        session.staff.must_change_password = true;
        store.setItem(KEY, JSON.stringify(session));
        passwordNeeded.forEach((f) => f());
      }
      err.status = r.status;
      err.body = data;
      throw err;
    }
    return data;
  }

  function keep(data) {
    session = { access_token: data.access_token, refresh_token: data.refresh_token, staff: data.staff };
    store.setItem(KEY, JSON.stringify(session));
    return session;
  }

  async function login(username, password) {
    const r = await fetch('/api/v1/auth/login', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: username, password: password }) });
    const data = await r.json().catch(() => ({}));
    if (!r.ok) throw (data.error || { message: '登录失败' });
    return keep(data);
  }

  /// Replaces the password; the answer is a new login (the old tokens end), kept like one.
  async function changePassword(oldPassword, newPassword) {
    return keep(await api('POST', '/api/v1/auth/password', { old_password: oldPassword, new_password: newPassword }));
  }

  const ROLE = { admin: '管理员', operator: '首问登记员', dispatcher: '派单员', cadre: '承办干部', caller: '回访员', leader: '领导', inspector: '纪委监督' };

  window.Staff = {
    ROLE,
    session: () => session,
    token: () => (session ? session.access_token : null),
    has: (role) => !!session && (session.staff.roles.includes(role) || session.staff.roles.includes('admin')),
    api,
    login,
    logout,
    changePassword,
    /// Whether the signed-in person must replace a temporary password before anything else.
    mustChangePassword: () => !!session && !!session.staff.must_change_password,
    onPasswordRequired: (f) => { passwordNeeded.push(f); },
    onLogout: (f) => { outs.push(f); },
    /// Who is signed in, as the header shows it.
    who: () => (session ? session.staff.name + '（' + session.staff.roles.map((r) => ROLE[r] || r).join('、') + '）' : ''),
    /// Shows the header's menu for the signed-in person: links they may use, `current` marked.
    nav: (current) => {
      const nav = document.getElementById('nav');
      const who = document.getElementById('who');
      if (nav) nav.hidden = !session;
      if (who) who.hidden = !session;
      if (!session) return;
      const name = document.getElementById('who-name');
      if (name) name.textContent = window.Staff.who();
      Array.from(document.querySelectorAll('#nav a')).forEach((a) => {
        a.classList.toggle('on', a.dataset.tab === current);
        if (a.dataset.tab === current) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
        // `data-roles`: any of these roles; `data-levels`: or whoever works at that level (a township office).
        const byLevel = !!a.dataset.levels && a.dataset.levels.split(',').includes(session.staff.region_level);
        a.hidden = !!a.dataset.roles && !a.dataset.roles.split(',').some(window.Staff.has) && !byLevel;
      });
    },
  };
})();
