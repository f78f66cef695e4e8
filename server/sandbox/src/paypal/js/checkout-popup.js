/* paygate sandbox PayPal approval page: when the JS SDK stand-in opened this window, tell its
   button frame (the opener, on this same origin) how the buyer decided. The target origin is
   explicit (this page's own), and the frame checks event.origin and event.source. */
(function () {
  'use strict';
  var d = document.body.dataset;
  if (d.popup !== '1' || !d.outcome) return;
  var opener = window.opener;
  if (!opener || opener.closed) {
    var hint = document.getElementById('result-hint');
    if (hint) hint.textContent = 'You can close this window.';
    return;
  }
  opener.postMessage({
    type: 'paygate-paypal-checkout',
    outcome: d.outcome,
    orderID: d.order,
    payerID: d.payer || null,
    message: d.message || ''
  }, location.origin);
})();
