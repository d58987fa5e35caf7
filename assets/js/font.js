// Large-font mode: remembered on the phone; the link works without JavaScript too (?large=1).
(function () {
  'use strict';
  var KEY = 'ms-large';
  var link = document.getElementById('font-toggle');
  function apply(on) {
    document.body.classList.toggle('large', on);
    if (link) link.textContent = on ? '标准字' : '大字';
  }
  var stored = null;
  try { stored = localStorage.getItem(KEY); } catch (e) { /* ignore */ }
  if (stored !== null) apply(stored === '1');
  if (link) link.addEventListener('click', function (ev) {
    ev.preventDefault();
    var on = !document.body.classList.contains('large');
    apply(on);
    try { localStorage.setItem(KEY, on ? '1' : '0'); } catch (e) { /* ignore */ }
  });
})();
