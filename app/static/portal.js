/* The partner portal's link page: hand the token in the URL's fragment (never sent to a server, so never in a
 * log) to the exchange form, drop it from the address bar and history, and submit. */
(function () {
  'use strict';
  var token = window.location.hash.slice(1);
  var form = document.getElementById('enter-form');
  if (!token || !form) { return; }
  history.replaceState(null, '', window.location.pathname);
  document.getElementById('token').value = decodeURIComponent(token);
  form.submit();
}());
