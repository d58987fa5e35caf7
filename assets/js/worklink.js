// The cadre's order page (/w/{token}). The page works without this script; with it:
// - an empty required field is named in Chinese next to it (as the console does) and focused, and
//   the browser's own tooltip never shows (the forms get `novalidate`);
// - the photo picker says how many photos were picked, and refuses too many or too large ones
//   before a long upload;
// - a form is sent once: its button is disabled while the page is being sent.
// ES2017, no modules: old Android WebViews run it.
(function () {
  'use strict';
  document.body.classList.add('js');

  const MAX_PHOTO_BYTES = 10 * 1024 * 1024;

  function box(form, name) {
    return form.querySelector('[data-field="' + name + '"]');
  }

  function showMsg(form, name, msg) {
    const b = box(form, name);
    const el = form.elements[name];
    if (el && el.classList && el.type !== 'file') {
      el.classList.add('bad');
      el.setAttribute('aria-invalid', 'true');
    }
    const p = b && b.querySelector('.field-msg');
    if (p) { p.textContent = msg; p.hidden = false; }
  }

  function clearMsg(form, name) {
    const b = box(form, name);
    const el = form.elements[name];
    if (el && el.classList && el.type !== 'file') {
      el.classList.remove('bad');
      el.removeAttribute('aria-invalid');
    }
    const p = b && b.querySelector('.field-msg');
    if (p) { p.hidden = true; p.textContent = ''; }
  }

  // What is wrong with the picked photos, or ''.
  function photoProblem(input) {
    const files = Array.from(input.files || []);
    const max = Number(input.dataset.max) || 9;
    if (files.length > max) return '照片最多' + max + '张，请重新选择';
    const big = files.findIndex((f) => f.size > MAX_PHOTO_BYTES);
    if (big >= 0) return '第' + (big + 1) + '张照片超过10MB，请换一张或压缩后再选';
    return '';
  }

  // Marks every problem of the form; returns the first field to fix, or null.
  function check(form) {
    let first = null;
    for (const el of Array.from(form.elements)) {
      if (!el.name) continue;
      let msg = '';
      if (el.type === 'file') msg = photoProblem(el);
      else if (el.required && !(el.value || '').trim()) msg = '请填写' + (el.dataset.what || '此项');
      if (msg) {
        showMsg(form, el.name, msg);
        first = first || el;
      } else {
        clearMsg(form, el.name);
      }
    }
    return first;
  }

  function showPicked(input) {
    const out = document.getElementById(input.id + '-picked');
    if (!out) return;
    const n = (input.files || []).length;
    out.textContent = n ? '已选择' + n + '张照片' : '';
    out.hidden = !n;
  }

  for (const form of Array.from(document.querySelectorAll('form.act'))) {
    form.noValidate = true;
    const clear = (ev) => {
      const el = ev.target;
      if (!el.name) return;
      if (el.type === 'file') {
        showPicked(el);
        const msg = photoProblem(el);
        if (msg) showMsg(form, el.name, msg); else clearMsg(form, el.name);
      } else {
        clearMsg(form, el.name);
      }
    };
    form.addEventListener('input', clear);
    form.addEventListener('change', clear);
    form.addEventListener('submit', (ev) => {
      const first = check(form);
      if (first) {
        ev.preventDefault();
        // A file input is hidden: its label takes the focus's place on screen.
        const target = first.type === 'file' ? form.querySelector('label[for="' + first.id + '"]') || first : first;
        target.scrollIntoView({ block: 'center' });
        first.focus({ preventScroll: true });
        return;
      }
      const button = form.querySelector('button[type=submit]');
      if (button) {
        button.disabled = true;
        button.dataset.text = button.textContent;
        button.textContent = '正在提交…';
      }
    });
  }

  // Back to the page from the browser's history: the buttons work again.
  window.addEventListener('pageshow', () => {
    for (const b of Array.from(document.querySelectorAll('form.act button[type=submit][disabled]'))) {
      b.disabled = false;
      if (b.dataset.text) b.textContent = b.dataset.text;
    }
  });

  // A form the server refused (no script ran when it was sent, or the server found more): its
  // field is brought into view with the message under it.
  const refused = document.querySelector('form.act [aria-invalid="true"], form.act .field-msg:not([hidden])');
  if (refused) {
    const field = refused.closest('.field');
    const el = field && field.querySelector('textarea, input[type=text]');
    (field || refused).scrollIntoView({ block: 'center' });
    if (el) el.focus({ preventScroll: true });
  }
})();
