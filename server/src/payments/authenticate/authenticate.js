/*
 * paygate: the off-session authentication page's script. It asks paygate for the
 * PaymentIntent's client secret and the saved card, loads Stripe.js, lets Stripe.js confirm the
 * PaymentIntent with that card (which opens the bank's 3-D Secure challenge), then asks paygate
 * for the outcome, which paygate reads from Stripe. Plain ES2017, no dependencies.
 */
(function () {
  'use strict';
  var root = document.getElementById('pg-authenticate');
  var button = document.getElementById('pg-confirm');
  var status = document.getElementById('pg-status');
  if (!root || !button || !status) return;
  var base = location.pathname.replace(/\/+$/, '');
  var query = '?t=' + encodeURIComponent(root.getAttribute('data-token') || '');

  function show(text, kind) {
    status.textContent = text;
    status.className = kind === 'error' ? 'error' : '';
  }

  async function post(step) {
    var response = await fetch(base + '/' + step + query, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
      credentials: 'omit'
    });
    var body = {};
    try { body = await response.json(); } catch (e) { body = {}; }
    return { ok: response.ok, body: body };
  }

  function loadScript(src) {
    return new Promise(function (resolve, reject) {
      if (window.Stripe) return resolve();
      var script = document.createElement('script');
      script.src = src;
      script.onload = function () { resolve(); };
      script.onerror = function () { reject(new Error('Stripe.js could not be loaded.')); };
      document.head.appendChild(script);
    });
  }

  async function confirm() {
    button.disabled = true;
    show('Contacting your bank…');
    try {
      var start = await post('start');
      if (!start.ok) {
        show(start.body.detail || 'This payment cannot be confirmed now.', 'error');
        return;
      }
      await loadScript(start.body.script_url);
      var stripe = window.Stripe(start.body.publishable_key);
      var result = await stripe.confirmCardPayment(start.body.client_secret, {
        payment_method: start.body.payment_method
      });
      show('Checking the payment…');
      var done = await post('complete');
      if (!done.ok) {
        show(done.body.detail || 'The payment could not be checked. Reload the page to try again.', 'error');
        button.disabled = false;
        return;
      }
      var state = done.body.status;
      if (state === 'succeeded' || state === 'requires_capture') {
        button.hidden = true;
        show('Payment confirmed. Thank you!');
      } else if (state === 'processing') {
        button.hidden = true;
        show('Your payment is being processed.');
      } else {
        // Stripe writes messages for customers only for card errors; the rest are for developers.
        var error = result && result.error;
        var message = error && error.type === 'card_error' ? error.message : '';
        show((message ? message + ' ' : '') + 'The payment was not confirmed. You can try again.', 'error');
        button.disabled = false;
      }
    } catch (e) {
      show('Something went wrong. Reload the page to try again.', 'error');
      button.disabled = false;
    }
  }

  button.addEventListener('click', confirm);
})();
