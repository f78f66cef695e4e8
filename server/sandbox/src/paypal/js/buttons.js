/*
 * paygate sandbox: the PayPal button frame of the JS SDK stand-in (served from the emulator's
 * origin, embedded by ../paypal-sdk.js). It owns the PayPal window, as the real SDK's frame
 * does: the window is opened synchronously in the click, pointed at the approval page once
 * the merchant's createOrder() has given an order id whose currency and intent match the SDK
 * URL, and it reports back here. Talks to the embedding page by postMessage with the page's
 * origin as explicit target (named in the frame URL's hash), and checks event.origin and
 * event.source of everything it receives. Plain ES2017, no dependencies.
 */
(function () {
  'use strict';

  var params = new URLSearchParams(location.hash.slice(1));
  var PARENT = params.get('origin');
  var ID = params.get('id');
  var CLIENT_ID = params.get('client-id') || '';
  var CURRENCY = params.get('currency') || 'USD';
  var INTENT = params.get('intent') || 'capture';
  var BASE = location.href.replace(/\/sdk\/buttons\.html([?#].*)?$/, '');
  var button = document.getElementById('paypal-button');
  var buttons = document.getElementById('buttons');
  // One button per funding source the SDK shows (PayPal first); each says which it is.
  var FUNDING = (params.get('funding') || 'paypal').split(',');
  var all = [button].concat(Array.prototype.slice.call(document.querySelectorAll('.funding-button')));
  var shown = all.filter(function (b) {
    var source = b.getAttribute('data-funding') || 'paypal';
    b.hidden = FUNDING.indexOf(source) < 0;
    return !b.hidden;
  });

  // phase: idle | creating (createOrder running) | approving (approval page shown)
  //        | finishing (approved, the merchant's onApprove running)
  var phase = 'idle';
  var popup = null;
  var orderID = null;
  var token = null;
  var watcher = null;

  if (!PARENT || !ID || window.parent === window) return;

  // ---- look -------------------------------------------------------------------------------
  var labels = { checkout: ['', 'Checkout'], buynow: ['', 'Buy Now'], pay: ['Pay with', ''], installment: ['', 'Pay in installments'], subscribe: ['', 'Subscribe'], donate: ['', 'Donate'] };
  var label = labels[params.get('label')] || ['', ''];
  document.getElementById('label-before').textContent = label[0];
  document.getElementById('label-after').textContent = label[1];
  ['gold', 'blue', 'silver', 'white', 'black'].forEach(function (c) {
    if (params.get('color') === c) buttons.classList.add('color-' + c);
  });
  if (!buttons.className.match(/color-/)) buttons.classList.add('color-gold');
  ['rect', 'pill', 'sharp'].forEach(function (s) {
    if (params.get('shape') === s) buttons.classList.add('shape-' + s);
  });
  var height = Number(params.get('height')) || 45;
  shown.forEach(function (b) {
    b.style.height = height + 'px';
    if (params.get('radius')) b.style.borderRadius = Number(params.get('radius')) + 'px';
  });
  if (params.get('tagline') === 'true') document.getElementById('tagline').hidden = false;

  function post(message) {
    message.__paypalStandIn = ID;
    window.parent.postMessage(message, PARENT);
  }

  // ---- the PayPal window --------------------------------------------------------------------
  function closePopup() {
    clearInterval(watcher);
    watcher = null;
    if (popup && !popup.closed) popup.close();
    popup = null;
  }

  function reset() {
    closePopup();
    phase = 'idle';
    orderID = null;
  }

  function watch() {
    clearInterval(watcher);
    watcher = setInterval(function () {
      if (!popup || !popup.closed) return;
      clearInterval(watcher);
      watcher = null;
      popup = null;
      // Closing the window before approving is a cancel; while createOrder runs, the cancel
      // is reported once the order id is known; after approval it changes nothing.
      if (phase === 'approving') {
        var id = orderID;
        phase = 'idle';
        orderID = null;
        post({ type: 'cancel', orderID: id });
      }
    }, 250);
  }

  function approvalUrl(id) {
    return BASE + '/checkoutnow?token=' + encodeURIComponent(id) + '&popup=1';
  }

  // ---- the emulator's API, with the SDK's own (facilitator) token ---------------------------
  async function facilitatorToken() {
    if (token) return token;
    var r = await fetch(BASE + '/sdk/facilitator-token', {
      method: 'POST',
      credentials: 'omit',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'client-id=' + encodeURIComponent(CLIENT_ID)
    });
    var b = await r.json();
    if (!r.ok) throw new Error('PayPal rejected the client id: ' + (b.error_description || r.status));
    token = b.access_token;
    return token;
  }

  async function getOrder(id) {
    var t = await facilitatorToken();
    var r = await fetch(BASE + '/v2/checkout/orders/' + encodeURIComponent(id), {
      credentials: 'omit',
      headers: { Authorization: 'Bearer ' + t }
    });
    var b = await r.json();
    if (r.status === 401) {
      token = null;
      return getOrder(id);
    }
    if (!r.ok) {
      var issue = b.details && b.details[0] ? b.details[0].issue + ': ' : '';
      throw new Error(issue + (b.message || 'the order could not be read') + (b.debug_id ? ' (' + b.debug_id + ')' : ''));
    }
    return b;
  }

  async function showApproval(id) {
    orderID = id;
    if (!popup || popup.closed) {
      phase = 'idle';
      orderID = null;
      post({ type: 'cancel', orderID: id });
      return;
    }
    try {
      var order = await getOrder(id);
      var unit = (order.purchase_units || [])[0] || {};
      var currency = unit.amount && unit.amount.currency_code;
      if (currency !== CURRENCY) {
        throw new Error('Expected currency from order api call to be ' + CURRENCY + ', got ' + currency +
          '. Please ensure you are passing currency=' + currency + ' to the sdk url. https://developer.paypal.com/sdk/js/configuration/#currency');
      }
      var intent = String(order.intent || '').toLowerCase();
      if (intent !== INTENT) {
        throw new Error('Expected intent from order api call to be ' + INTENT + ', got ' + intent +
          '. Please ensure you are passing intent=' + intent + ' to the sdk url. https://developer.paypal.com/sdk/js/configuration/#intent');
      }
    } catch (e) {
      reset();
      post({ type: 'error', message: e.message });
      return;
    }
    if (!popup || popup.closed) {
      reset();
      post({ type: 'cancel', orderID: id });
      return;
    }
    phase = 'approving';
    popup.location.href = approvalUrl(id);
  }

  shown.forEach(function (b) {
    b.addEventListener('click', function () { clicked(b.getAttribute('data-funding') || 'paypal'); });
  });

  function clicked(fundingSource) {
    if (phase !== 'idle') {
      if (popup && !popup.closed) popup.focus();
      return;
    }
    // As PayPal does: open the window inside the click, before the order exists.
    popup = window.open(BASE + '/checkoutnow/loading', 'paygate_paypal_' + ID, 'width=500,height=700');
    if (!popup) {
      post({ type: 'error', message: 'The PayPal window could not be opened: popups are blocked.' });
      return;
    }
    phase = 'creating';
    watch();
    post({ type: 'click', fundingSource: fundingSource });
  }

  // ---- messages -------------------------------------------------------------------------------
  window.addEventListener('message', async function (event) {
    var data = event.data;
    if (!data || typeof data !== 'object') return;

    // From the PayPal window (same origin as this frame).
    if (popup && event.source === popup) {
      if (event.origin !== location.origin || data.type !== 'paygate-paypal-checkout') return;
      if (data.orderID !== orderID) return;
      if (data.outcome === 'approve') {
        phase = 'finishing';
        var t = null;
        try { t = await facilitatorToken(); } catch (e) { t = null; }
        post({ type: 'approve', orderID: data.orderID, payerID: data.payerID, facilitatorAccessToken: t || undefined });
      } else if (data.outcome === 'cancel') {
        var id = orderID;
        reset();
        post({ type: 'cancel', orderID: id });
      } else {
        reset();
        post({ type: 'error', message: data.message || 'PayPal checkout failed' });
      }
      return;
    }

    // From the page that embeds this frame.
    if (event.source !== window.parent || event.origin !== PARENT || data.__paypalStandIn !== ID) return;
    switch (data.type) {
      case 'order':
        if (phase === 'creating') showApproval(String(data.orderID));
        break;
      case 'abort':
      case 'done':
      case 'close':
        reset();
        break;
      case 'restart':
        if (popup && !popup.closed && data.orderID === orderID) {
          phase = 'approving';
          popup.location.href = approvalUrl(orderID);
        } else {
          reset();
          post({ type: 'error', message: 'The PayPal window was closed; click the PayPal button to try again.' });
        }
        break;
      case 'get_order':
        try {
          post({ type: 'result', requestId: data.requestId, result: await getOrder(String(data.orderID)) });
        } catch (e) {
          post({ type: 'result', requestId: data.requestId, error: e.message });
        }
        break;
      case 'enable':
        shown.forEach(function (b) { b.disabled = false; });
        break;
      case 'disable':
        shown.forEach(function (b) { b.disabled = true; });
        break;
      default:
        break;
    }
  });

  post({ type: 'ready', height: document.documentElement.scrollHeight });
})();
