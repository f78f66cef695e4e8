/* paygate sandbox 3-D Secure page: tells the Stripe.js stand-in (the parent page) that the
   challenge is over, by postMessage to the origin it named (never '*'). */
(function () {
  'use strict';
  var body = document.body;
  var target = body.getAttribute('data-origin');
  if (!target || window.parent === window) return;
  window.parent.postMessage({
    type: 'paygate-stripe-3ds-done',
    payment_intent: body.getAttribute('data-pi'),
    status: body.getAttribute('data-status')
  }, target);
})();
