/* The sandbox demo shop: a cart in the page; "Pay" asks the shop's back end (here, paygate's
 * /demo/checkout, standing in for the merchant's server) to record an order and open a checkout
 * session for it, then embeds the widget with Paygate.mount. Prices live on the server.
 * The widget's onSuccess is not proof of payment (anyone can run script in their own browser):
 * the page only waits there, polling the order, which the shop's back end marks paid when
 * paygate's signed checkout.session.completed webhook arrives. */
(function () {
  'use strict';
  var cart = {};
  var list = document.getElementById('cart-lines');
  var total = document.getElementById('cart-total');
  var pay = document.getElementById('pay');
  var status = document.getElementById('shop-status');
  var checkout = document.getElementById('checkout');
  var catalog = {};
  document.querySelectorAll('[data-sku]').forEach(function (el) {
    catalog[el.dataset.sku] = { name: el.dataset.name, minor: Number(el.dataset.minor), display: el.dataset.display };
    el.querySelector('button').addEventListener('click', function () {
      cart[el.dataset.sku] = (cart[el.dataset.sku] || 0) + 1;
      render();
    });
  });

  function render() {
    list.textContent = '';
    var sum = 0;
    Object.keys(cart).forEach(function (sku) {
      var li = document.createElement('li');
      li.textContent = cart[sku] + ' × ' + catalog[sku].name;
      list.appendChild(li);
      sum += cart[sku] * catalog[sku].minor; // integer cents: display only, the server prices
    });
    total.textContent = sum ? 'Total: $' + Math.floor(sum / 100) + '.' + String(sum % 100).padStart(2, '0') : 'Your cart is empty.';
    pay.disabled = sum === 0;
  }

  var POLL_MS = 1000;
  var POLL_TRIES = 60;

  // Follows the order until the shop's back end has heard from paygate, or gives up saying so.
  function confirm(order, tries) {
    fetch('/demo/orders/' + encodeURIComponent(order), { headers: { Accept: 'application/json' } })
      .then(function (r) { return r.ok ? r.json() : { status: 'unknown' }; })
      .catch(function () { return { status: 'unknown' }; })
      .then(function (o) {
        if (o.status === 'paid') {
          status.textContent = 'Thank you! Order ' + order + ' is paid (confirmed by paygate\'s signed webhook).';
        } else if (o.status === 'expired') {
          status.textContent = 'Order ' + order + ' expired before its payment was confirmed.';
        } else if (tries <= 1) {
          status.textContent = 'Payment received; paygate has not confirmed order ' + order +
            ' yet. The shop marks it paid when paygate\'s signed webhook arrives.';
        } else {
          setTimeout(function () { confirm(order, tries - 1); }, POLL_MS);
        }
      });
  }

  pay.addEventListener('click', function () {
    pay.disabled = true;
    status.textContent = 'Opening the checkout…';
    var items = Object.keys(cart).map(function (sku) { return { sku: sku, quantity: cart[sku] }; });
    fetch('/demo/checkout', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ items: items }),
    })
      .then(function (r) { return r.json().then(function (b) { if (!r.ok) throw new Error(b.detail || 'error'); return b; }); })
      .then(function (session) {
        status.textContent = '';
        checkout.textContent = '';
        Paygate.mount(checkout, {
          session: session.id,
          onSuccess: function () {
            status.textContent = 'Payment received — confirming…';
            cart = {};
            render();
            confirm(session.order, POLL_TRIES);
          },
          onCancel: function () { status.textContent = 'Checkout canceled.'; pay.disabled = false; },
          onError: function (e) { status.textContent = 'The payment did not go through (' + (e.code || 'error') + ').'; pay.disabled = false; },
        });
      })
      .catch(function (e) { status.textContent = 'Could not open the checkout: ' + e.message; pay.disabled = false; });
  });
  render();
})();
