/* Hookyard staff pages: every behaviour in one external file, so the pages satisfy a strict CSP (no inline
 * scripts or handlers). Templates opt in with data-* attributes; other pages can reuse them:
 *   <form data-confirm="Question?">             asks before submitting (also on a submit button)
 *   <button data-copy="element-id">             copies that element's text
 *   <div data-poll-json="url" data-kind="job">  polls a bulk job's progress (job page)
 *   <div data-test-outcome="url">               polls a test send's outcome (endpoint page)
 *   <textarea data-json-editor>                 validates JSON as it is typed; disables its form's submit
 *   <tbody id="hy-rows" data-refresh-url=...>   the monitor's live rows (see monitor() below)
 */
(function () {
  'use strict';

  function $all(selector, root) { return Array.prototype.slice.call((root || document).querySelectorAll(selector)); }

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
      button.textContent = 'Copied';
      button.setAttribute('aria-live', 'polite');
    });
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
            if (value === null || typeof value !== 'object' || Array.isArray(value)) error = 'The payload must be a JSON object.';
          } catch (e) { error = 'Not valid JSON: ' + e.message; }
        }
        area.classList.toggle('is-invalid', !!error);
        area.setAttribute('aria-invalid', error ? 'true' : 'false');
        if (status) { status.textContent = error || 'Valid JSON.'; status.className = error ? 'small text-danger' : 'small hy-muted'; }
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

  // --- progress of a bulk job, outcome of a test send ---------------------------------------------------------
  function getJSON(url) {
    return fetch(url, {credentials: 'same-origin', headers: {Accept: 'application/json'}}).then(function (r) { return r.json(); });
  }

  function jobProgress() {
    var box = document.querySelector('[data-poll-json][data-kind=job]');
    if (!box) return;
    var url = box.getAttribute('data-poll-json');
    function byId(id) { return document.getElementById(id); }
    function show(job) {
      var share = job.total ? Math.min(100, Math.round(100 * job.done / job.total)) : 100;
      var bar = byId('job-bar');
      bar.style.width = share + '%';  // CSSOM, which the CSP allows (a style= attribute it would not)
      bar.textContent = share + '%';
      bar.setAttribute('aria-valuenow', share);
      byId('job-done').textContent = job.done;
      byId('job-total').textContent = job.total;
      byId('job-status').textContent = job.status;
      byId('job-progress').dataset.status = job.status;
      if (job.error) { var e = byId('job-error'); e.hidden = false; e.textContent = job.error; }
      if (job.status === 'done') {
        var parts = Object.keys(job.skipped).map(function (reason) { return job.skipped[reason] + ' ' + reason; });
        var summary = byId('job-summary');
        summary.hidden = false;
        summary.textContent = 'Done: retried ' + job.changed + ' of ' + job.done + '.' +
          (parts.length ? ' Skipped: ' + parts.join('; ') + '.' : ' Nothing was skipped.');
        var outcomes = byId('job-outcomes');
        if (outcomes && window.htmx) htmx.trigger(outcomes, 'hy-refresh');
        return;
      }
      setTimeout(function () { getJSON(url).then(show); }, 1000);
    }
    show(JSON.parse(box.getAttribute('data-initial')));
  }

  function testOutcome() {
    var box = document.querySelector('[data-test-outcome]');
    if (!box) return;
    var url = box.getAttribute('data-test-outcome');
    function show(data) {
      if (!data.attempt) { setTimeout(poll, 500); return; }
      var a = data.attempt;
      box.dataset.status = data.status;
      box.className = 'alert mt-2 mb-0 small alert-' + (data.status === 'succeeded' ? 'success' : 'danger');
      box.textContent = (data.status === 'succeeded' ? 'Delivered: ' : 'Failed: ') +
        (a.response_status ? 'HTTP ' + a.response_status : (a.error_class || '')) +
        (a.error ? ' — ' + a.error : '') + ' (' + a.duration_ms + ' ms)';
    }
    function poll() { getJSON(url).then(show); }
    poll();
  }

  // --- the monitor: live rows, selection, keyboard --------------------------------------------------------------
  var PAUSE_KEY = 'hookyard.monitor.refreshPaused';

  function monitor() {
    var rows = document.getElementById('hy-rows');
    if (!rows || !window.htmx) return;
    var seconds = parseInt(rows.getAttribute('data-refresh-seconds'), 10) || 30, left = seconds;
    var label = document.getElementById('refresh-label'), toggle = document.getElementById('refresh-toggle');
    var dot = document.getElementById('refresh-dot'), live = document.getElementById('hy-live-status');
    var focusedId = null;

    function paused() { return window.localStorage.getItem(PAUSE_KEY) === '1'; }
    function selected() { return $all('input.action-checkbox:checked'); }
    function busy() { return selected().length > 0 || document.activeElement && document.activeElement.closest('#hy-rows form'); }
    function showState() {
      toggle.textContent = paused() ? 'Resume auto-refresh' : 'Pause auto-refresh';
      toggle.setAttribute('aria-pressed', paused() ? 'true' : 'false');
      dot.classList.toggle('paused', paused());
      if (paused()) label.textContent = 'Auto-refresh paused';
      else if (selected().length) label.textContent = 'Auto-refresh waits while rows are selected';
      else label.textContent = 'Refreshing in ' + left + ' s';
    }
    toggle.addEventListener('click', function () {
      window.localStorage.setItem(PAUSE_KEY, paused() ? '0' : '1'); left = seconds; showState();
    });
    setInterval(function () {
      if (!paused() && !busy() && !document.hidden) {
        left -= 1;
        if (left <= 0) { left = seconds; htmx.trigger(rows, 'hy-refresh'); }
      }
      showState();
    }, 1000);

    // A refresh is dropped while someone is selecting rows or the page is hidden (htmx:beforeRequest is cancellable).
    document.body.addEventListener('htmx:beforeRequest', function (event) {
      if (event.detail.elt === rows && (busy() || document.hidden)) event.preventDefault();
    });
    document.body.addEventListener('htmx:afterSwap', function (event) {
      var fresh = document.getElementById('hy-rows');
      if (event.detail.target.id === 'hy-rows' || event.detail.elt === fresh) {
        rows = fresh;
        if (focusedId) focusRow(rows.querySelector('tr[data-id="' + focusedId + '"]'), false);
        if (live) live.textContent = 'Updated ' + new Date().toLocaleTimeString();
      }
      tooltips(event.detail.target);
      selectionChanged();
    });

    // Selection: the bulk bar counts what is selected and enables its buttons.
    function selectionChanged() {
      var count = selected().length, counter = document.getElementById('bulk-count');
      if (counter) counter.textContent = count ? count + ' selected' : 'Select rows for bulk actions';
      $all('#bulk-form [data-needs-selection]').forEach(function (b) { b.disabled = count === 0; });
      var all = document.getElementById('select-all');
      if (all) all.checked = count > 0 && count === $all('input.action-checkbox').length;
      showState();
    }
    document.addEventListener('change', function (event) {
      if (event.target.id === 'select-all') {
        $all('input.action-checkbox').forEach(function (box) { box.checked = event.target.checked; });
      }
      if (event.target.matches('.action-checkbox, #select-all')) selectionChanged();
    });
    selectionChanged();

    // Keyboard: j/k move, Enter opens the log, r retries (it still asks), / searches, p pauses, ? helps.
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
        case 'p': toggle.click(); break;
        case '?': if (help && !help.open) help.showModal(); break;
        case 'Enter': if (row) row.querySelector('a[data-action=log]').click(); else return; break;
        case 'r':
          var retry = row && row.querySelector('form[data-action=retry]');
          if (!retry || retry.querySelector('button:disabled')) return;  // not allowed now: the button says why
          if (window.confirm('Retry delivery ' + focusedId + ' now?')) htmx.trigger(retry, 'submit');
          break;
        default: return;
      }
      event.preventDefault();
    });
    $all('[data-close-dialog]').forEach(function (b) { b.addEventListener('click', function () { b.closest('dialog').close(); }); });
    var helpButton = document.getElementById('shortcut-help-button');
    if (helpButton && help) helpButton.addEventListener('click', function () { help.showModal(); });
    showState();
  }

  document.addEventListener('DOMContentLoaded', function () {
    tooltips();
    jsonEditors();
    jobProgress();
    testOutcome();
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
