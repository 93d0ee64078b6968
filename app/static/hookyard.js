/* Hookyard staff pages: every behaviour in one external file, so the pages satisfy a strict CSP (no inline
 * scripts or handlers). Templates opt in with data-* attributes; other pages can reuse them:
 *   <form data-confirm="Question?">             asks before submitting (also on a submit button)
 *   <button data-copy="element-id">             copies that element's text
 *   <textarea data-json-editor>                 validates JSON as it is typed; disables its form's submit
 *   <button data-add-pattern="order.*" data-target="field-id">  adds that event type to a comma-separated field
 *   <div data-width-percent="40">               its width in percent (a progress bar: CSSOM, as the CSP allows)
 *   <button data-toggle-controls="id">          opens what .hy-collapse-narrow folds away on a phone
 *   <tbody id="hy-rows">                        the monitor's rows: selection and keyboard (see monitor() below)
 *
 * Everything that changes by itself on a page is htmx polling, one way: hx-get plus hx-trigger="every Ns" on the
 * element, which replaces itself (hx-swap="outerHTML"). Two kinds:
 *   - auto-refresh of a list or of cards (the monitor, the Inbound page, the overview) is marked data-poll with
 *     data-refresh-seconds="N": autoRefresh() below pauses all of them with one button and one remembered key,
 *     holds a refresh while rows are selected, a form in it is in use or the tab is hidden, counts down to the
 *     next one (data-refresh-label), and tells screen readers it changed (data-refresh-status);
 *   - watching what someone asked for until it lands (a retried row, a bulk job, a test send) keeps polling for as
 *     long as the server renders the trigger, and is never paused.
 */
(function () {
  'use strict';

  function $all(selector, root) { return Array.prototype.slice.call((root || document).querySelectorAll(selector)); }

  // The page's words for what this script writes (<meta name="hy-words">, app/admin/shared/script_words.py); the
  // English key when a page has none. {name} marks are filled from values.
  var WORDS = (function () {
    var meta = document.querySelector('meta[name="hy-words"]');
    try { return meta ? JSON.parse(meta.content) : {}; } catch (e) { return {}; }
  })();
  function t(key, values) {
    return (WORDS[key] || key).replace(/\{(\w+)\}/g, function (mark, name) {
      return values && name in values ? String(values[name]) : mark;
    });
  }

  // --- confirmations, copy buttons, tooltips -------------------------------------------------------------
  document.addEventListener('submit', function (event) {
    var form = event.target, submitter = event.submitter;
    var question = (submitter && submitter.getAttribute('data-confirm')) || form.getAttribute('data-confirm');
    if (question && !window.confirm(question)) { event.preventDefault(); event.stopImmediatePropagation(); }
  }, true);

  document.addEventListener('click', function (event) {
    var button = event.target.closest('[data-copy]');
    if (!button) return;
    var source = document.getElementById(button.getAttribute('data-copy'));
    if (!source) return;
    var text = source.value !== undefined && source.tagName !== 'PRE' && source.tagName !== 'CODE' ? source.value : source.textContent;
    navigator.clipboard.writeText(text.trim()).then(function () {
      button.textContent = t('Copied');
      button.setAttribute('aria-live', 'polite');
    });
  });

  document.addEventListener('click', function (event) {
    var button = event.target.closest('[data-add-pattern]');
    if (!button) return;
    var field = document.getElementById(button.getAttribute('data-target')), value = button.getAttribute('data-add-pattern');
    if (!field) return;
    var parts = field.value.split(',').map(function (p) { return p.trim(); }).filter(Boolean);
    if (parts.indexOf(value) === -1) parts.push(value);
    field.value = parts.join(', ');
    field.focus();
  });

  // <button data-toggle-controls="id" aria-expanded="false">: opens and folds the controls a phone hides (CSS).
  document.addEventListener('click', function (event) {
    var button = event.target.closest('[data-toggle-controls]');
    var controls = button && document.getElementById(button.getAttribute('data-toggle-controls'));
    if (!controls) return;
    var open = controls.classList.toggle('hy-open');
    button.setAttribute('aria-expanded', open ? 'true' : 'false');
  });

  function tooltips(root) {
    if (window.jQuery && window.jQuery.fn.tooltip) window.jQuery('[data-toggle="tooltip"]', root || document).tooltip();
  }

  // --- the payload editor (edit and resend, send an event) -------------------------------------------------
  function jsonEditors() {
    $all('textarea[data-json-editor]').forEach(function (area) {
      var form = area.form, status = document.getElementById(area.getAttribute('data-json-editor'));
      var submits = $all('button[type=submit]', form);
      function check() {
        var error = null;
        if (area.value.trim() || area.required) {
          try {
            var value = JSON.parse(area.value);
            if (value === null || typeof value !== 'object' || Array.isArray(value)) error = t('The payload must be a JSON object.');
          } catch (e) { error = t('Not valid JSON: ') + e.message; }
        }
        area.classList.toggle('is-invalid', !!error);
        area.setAttribute('aria-invalid', error ? 'true' : 'false');
        if (status) { status.textContent = error || t('Valid JSON.'); status.className = error ? 'small text-danger' : 'small hy-muted'; }
        submits.forEach(function (b) { b.disabled = !!error; });
      }
      area.addEventListener('input', check);
      var format = form.querySelector('[data-format-json]');
      if (format) format.addEventListener('click', function () {
        try { area.value = JSON.stringify(JSON.parse(area.value), null, 2); } catch (e) { /* shown by check() */ }
        check();
      });
      check();
    });
  }

  // --- progress bars ------------------------------------------------------------------------------------------
  function widths() {
    $all('[data-width-percent]').forEach(function (bar) {
      bar.style.width = bar.getAttribute('data-width-percent') + '%';  // CSSOM, which the CSP allows (style= it would not)
    });
  }
  // htmx settles a swapped element's style after the swap: the width is set again then, so it never jumps back.
  document.addEventListener('htmx:afterSwap', widths);
  document.addEventListener('htmx:afterSettle', widths);

  // --- auto-refresh of lists and cards (see the header) ---------------------------------------------------------
  var PAUSE_KEY = 'hookyard.refreshPaused';

  function refreshPaused() { return window.localStorage.getItem(PAUSE_KEY) === '1'; }
  function selectedRows() { return $all('input.action-checkbox:checked'); }
  function polled() { return document.querySelector('[data-poll]'); }
  function inUse(element) {
    var focused = document.activeElement;
    return selectedRows().length > 0 || !!(focused && element.contains(focused) && focused.closest('form'));
  }

  function autoRefresh() {
    if (!polled() || !window.htmx) return;
    var seconds = parseInt(polled().getAttribute('data-refresh-seconds'), 10) || 30, left = seconds;
    var toggle = document.querySelector('[data-refresh-toggle]'), label = document.querySelector('[data-refresh-label]');
    var dot = document.querySelector('[data-refresh-dot]'), status = document.querySelector('[data-refresh-status]');

    function showState() {
      if (toggle) {
        toggle.textContent = refreshPaused() ? t('Resume auto-refresh') : t('Pause auto-refresh');
        toggle.setAttribute('aria-pressed', refreshPaused() ? 'true' : 'false');
      }
      if (dot) dot.classList.toggle('paused', refreshPaused());
      if (!label) return;
      if (refreshPaused()) label.textContent = t('Auto-refresh paused');
      else if (selectedRows().length) label.textContent = t('Auto-refresh waits while rows are selected');
      else label.textContent = t('Refreshing in {n} s', {n: left});
    }
    if (toggle) toggle.addEventListener('click', function () {
      window.localStorage.setItem(PAUSE_KEY, refreshPaused() ? '0' : '1'); left = seconds; showState();
    });
    document.addEventListener('change', showState);
    document.addEventListener('keydown', function (event) {  // p pauses or resumes, outside text fields
      if (event.key !== 'p' || event.ctrlKey || event.metaKey || event.altKey || !toggle) return;
      if (event.target.closest('input, textarea, select, [contenteditable]')) return;
      event.preventDefault();
      toggle.click();
    });
    setInterval(function () {
      if (!refreshPaused() && !inUse(polled()) && !document.hidden && left > 1) left -= 1;
      showState();
    }, 1000);

    // htmx asks every N s; a paused, busy or hidden page drops the request (htmx:beforeRequest is cancellable).
    document.body.addEventListener('htmx:beforeRequest', function (event) {
      if (!event.detail.elt.matches('[data-poll]')) return;
      left = seconds;
      if (refreshPaused() || inUse(event.detail.elt) || document.hidden) event.preventDefault();
      showState();
    });
    document.body.addEventListener('htmx:afterSwap', function (event) {
      var fresh = polled();
      if (status && fresh && (event.detail.elt === fresh || event.detail.target.matches('[data-poll]'))) {
        status.textContent = t('Updated {time}', {time: new Date().toLocaleTimeString(document.documentElement.lang)});
      }
    });
    showState();
  }

  // --- the monitor and the Inbound page: selection, keyboard --------------------------------------------------------
  function monitor() {
    var rows = document.getElementById('hy-rows');
    if (!rows || !window.htmx) return;
    var focusedId = null;

    document.body.addEventListener('htmx:afterSwap', function (event) {
      var fresh = document.getElementById('hy-rows');
      if (event.detail.target.id === 'hy-rows' || event.detail.elt === fresh) {
        rows = fresh;
        if (focusedId) focusRow(rows.querySelector('tr[data-id="' + focusedId + '"]'), false);
      }
      tooltips(event.detail.target);
      selectionChanged();
    });

    // Selection: the bulk bar counts what is selected and enables its buttons.
    function selectionChanged() {
      var count = selectedRows().length, counter = document.getElementById('bulk-count');
      if (counter) counter.textContent = count ? t('{n} selected', {n: count}) : t('Select rows for bulk actions');
      $all('#bulk-form [data-needs-selection]').forEach(function (b) { b.disabled = count === 0; });
      var all = document.getElementById('select-all');
      if (all) all.checked = count > 0 && count === $all('input.action-checkbox').length;
    }
    document.addEventListener('change', function (event) {
      if (event.target.id === 'select-all') {
        $all('input.action-checkbox').forEach(function (box) { box.checked = event.target.checked; });
      }
      if (event.target.matches('.action-checkbox, #select-all')) selectionChanged();
    });
    selectionChanged();

    // Search as you type: after a pause the rows (with the tabs and pager, out of band) refresh in place for the
    // typed term, and the address bar follows, so a reload or a shared link shows the same rows.
    var search = document.getElementById('q'), typing = null;
    if (search && search.form) search.addEventListener('input', function () {
      window.clearTimeout(typing);
      typing = window.setTimeout(function () { searchInPlace(search.value.trim()); }, 400);
    });
    function searchInPlace(term) {
      var params = new URLSearchParams(window.location.search);
      if (params.get('q') === (term || null)) return;
      if (term) params.set('q', term); else params.delete('q');
      params.delete('page');
      var query = params.toString() ? '?' + params.toString() : '';
      window.history.replaceState(window.history.state, '', window.location.pathname + query);
      $all('#bulk-form input[name=url]').forEach(function (i) { i.value = window.location.pathname + query; });
      var source = document.getElementById('hy-rows').getAttribute('hx-get').split('?')[0];
      htmx.ajax('GET', source + query, {target: '#hy-rows', swap: 'outerHTML'});
    }

    // Keyboard: j/k move, Enter opens the log, r retries (it still asks), / searches, ? helps (p: autoRefresh()).
    function listed() { return $all('#hy-rows tr[data-id]'); }
    function focusRow(row, scroll) {
      $all('#hy-rows tr.row-focus').forEach(function (r) { r.classList.remove('row-focus'); });
      if (!row) { focusedId = null; return; }
      row.classList.add('row-focus');
      focusedId = row.getAttribute('data-id');
      var link = row.querySelector('a[data-action=log]');
      if (link && scroll !== false) link.focus();
    }
    function move(step) {
      var all = listed(), current = all.findIndex(function (r) { return r.getAttribute('data-id') === focusedId; });
      focusRow(all[Math.max(0, Math.min(all.length - 1, current + step))]);
    }
    var help = document.getElementById('shortcut-help');
    document.addEventListener('keydown', function (event) {
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      if (event.target.closest('input, textarea, select, [contenteditable]')) {
        if (event.key === 'Escape') event.target.blur();
        return;
      }
      var row = focusedId && document.querySelector('#hy-rows tr[data-id="' + focusedId + '"]');
      switch (event.key) {
        case 'j': move(1); break;
        case 'k': move(-1); break;
        case '/': event.preventDefault(); document.getElementById('q').focus(); break;
        case '?': if (help && !help.open) help.showModal(); break;
        case 'Enter': if (row) row.querySelector('a[data-action=log]').click(); else return; break;
        case 'r':
          var retry = row && row.querySelector('form[data-action=retry]');
          if (!retry || retry.querySelector('button:disabled')) return;  // not allowed now: the button says why
          if (window.confirm(t('Retry delivery {id} now?', {id: focusedId}))) htmx.trigger(retry, 'submit');
          break;
        default: return;
      }
      event.preventDefault();
    });
    $all('[data-close-dialog]').forEach(function (b) { b.addEventListener('click', function () { b.closest('dialog').close(); }); });
    var helpButton = document.getElementById('shortcut-help-button');
    if (helpButton && help) helpButton.addEventListener('click', function () { help.showModal(); });
  }

  document.addEventListener('DOMContentLoaded', function () {
    tooltips();
    jsonEditors();
    widths();
    autoRefresh();
    monitor();
  });
})();

// Flask-Admin's "With selected" menu on stock list pages (templates/admin/actions.html).
document.addEventListener('click', function (event) {
  var link = event.target.closest('[data-model-action]');
  if (!link || !window.modelActions) return;
  event.preventDefault();
  window.modelActions.execute(link.getAttribute('data-model-action'));
});

// Links that are really buttons (href="#", role=button) never jump to the top of the page.
document.addEventListener('click', function (event) {
  var link = event.target.closest('a[href="#"][role=button]');
  if (link) event.preventDefault();
});
