/*
 * paygate sandbox: a stand-in for the PayPal JS SDK (v5), served by the PayPal emulator at
 * /sdk/js?client-id=...&currency=...&intent=capture|authorize.
 *
 * It implements the part of the real SDK's API that paygate's widget uses, with the same names
 * and data shapes (checked against @paypal/paypal-js by typecheck/):
 *   paypal.Buttons({createOrder, onApprove, onCancel, onError, onClick, onInit, style, fundingSource})
 *     -> { render(selectorOrElement): Promise<void>, isEligible(), close(): Promise<void>,
 *          updateProps(props): Promise<void>, resume(), hasReturned() }
 *   paypal.FUNDING, paypal.getFundingSources(), paypal.isFundingEligible(source), paypal.version
 *
 * As in the real SDK, the button lives in a frame served from the PayPal origin (here the
 * emulator's), so a page's CSP needs script-src and frame-src for that origin and nothing else.
 * Clicking the button opens the PayPal window synchronously in the click (popups opened later
 * are blocked), then this script awaits createOrder() for the order id, the frame checks that
 * the order's currency and intent match the script URL (the real SDK refuses otherwise), and
 * the window shows the emulator's approval page. The window stays open, "processing", while
 * onApprove(data, actions) runs: actions.restart() sends it back to the approval page (after
 * INSTRUMENT_DECLINED), actions.order.get() reads the order; it closes when onApprove settles.
 * Closing the window or cancelling calls onCancel({orderID}); failures call onError(err).
 * This page and the frame talk by postMessage with explicit target origins and origin checks.
 * Plain ES2017, no dependencies.
 */
(function () {
  'use strict';

  var CONFIG = "__PAYGATE_PAYPAL_CONFIG__";
  var BASE = CONFIG.base;
  var ORIGIN = new URL(BASE, location.href).origin;
  var script = document.currentScript;
  var namespace = (script && script.getAttribute('data-namespace')) || 'paypal';
  var count = 0;

  function setStyles(el, styles) {
    Object.keys(styles).forEach(function (k) { el.style[k] = styles[k]; });
  }

  function report(handler, err) {
    if (typeof handler === 'function') {
      try { handler(err); } catch (e) { setTimeout(function () { throw e; }); }
    } else {
      setTimeout(function () { throw err; });
    }
  }

  function asError(e) {
    return e instanceof Error ? e : new Error(String(e));
  }

  function Buttons(options) {
    if (!(this instanceof Buttons)) return new Buttons(options);
    this._options = Object.assign({}, options || {});
    this._id = 'pgpp' + (++count) + '_' + Math.random().toString(36).slice(2, 10);
    this._frame = null;
    this._container = null;
    this._rendered = null;
    this._requests = {};
    this._requestCount = 0;
    this._listener = this._onMessage.bind(this);
  }

  Buttons.prototype.isEligible = function () {
    var source = this._options.fundingSource;
    return !source || CONFIG.funding.indexOf(source) >= 0;
  };

  // The buttons this instance shows: one standalone source, or every eligible one.
  Buttons.prototype._funding = function () {
    var source = this._options.fundingSource;
    return source ? [source] : CONFIG.funding.slice();
  };

  Buttons.prototype.render = function (container) {
    var self = this;
    var el = typeof container === 'string' ? document.querySelector(container) : container;
    if (!el || typeof el.appendChild !== 'function') {
      return Promise.reject(new Error('Document is ready and element ' + String(container) + ' does not exist'));
    }
    if (!this.isEligible()) {
      return Promise.reject(new Error('Instance must be eligible to render'));
    }
    if (this._frame) this._teardown();
    var style = this._options.style || {};
    var height = Math.min(Math.max(Number(style.height) || 45, 25), 55);
    var tagline = style.tagline === true;
    var hash = new URLSearchParams({
      origin: location.origin,
      id: this._id,
      'client-id': CONFIG.clientId,
      currency: CONFIG.currency,
      intent: CONFIG.intent,
      color: style.color || 'gold',
      shape: style.shape || 'rect',
      label: style.label || 'paypal',
      height: String(height),
      tagline: String(tagline),
      funding: this._funding().join(','),
      radius: typeof style.borderRadius === 'number' ? String(style.borderRadius) : ''
    });
    var frame = document.createElement('iframe');
    frame.src = BASE + '/sdk/buttons.html#' + hash.toString();
    frame.title = 'PayPal';
    frame.name = '__paypal_buttons__' + this._id;
    frame.setAttribute('scrolling', 'no');
    frame.setAttribute('allow', 'payment');
    setStyles(frame, {
      border: '0', width: '100%', minWidth: '150px', maxWidth: style.disableMaxWidth ? 'none' : '750px',
      height: (this._funding().length * (height + 6) + (tagline ? 20 : 0)) + 'px', display: 'block', background: 'transparent',
      colorScheme: 'normal', overflow: 'hidden'
    });
    this._frame = frame;
    this._container = el;
    window.addEventListener('message', this._listener);
    var rendered = new Promise(function (resolve, reject) { self._rendered = { resolve: resolve, reject: reject }; });
    el.appendChild(frame);
    return rendered;
  };

  Buttons.prototype.close = function () {
    this._send({ type: 'close' });
    this._teardown();
    return Promise.resolve();
  };

  Buttons.prototype.updateProps = function (props) {
    Object.assign(this._options, props || {});
    return Promise.resolve();
  };

  // App switch (returning from the PayPal app) does not exist in the sandbox: nothing to resume.
  Buttons.prototype.resume = function () {};
  Buttons.prototype.hasReturned = function () { return false; };

  Buttons.prototype._teardown = function () {
    window.removeEventListener('message', this._listener);
    if (this._frame && this._frame.parentNode) this._frame.parentNode.removeChild(this._frame);
    this._frame = null;
    if (this._rendered) {
      this._rendered.reject(new Error('Buttons were closed before they rendered'));
      this._rendered = null;
    }
    var requests = this._requests;
    this._requests = {};
    Object.keys(requests).forEach(function (id) { requests[id].reject(new Error('Buttons were closed')); });
  };

  Buttons.prototype._send = function (message) {
    if (!this._frame || !this._frame.contentWindow) return;
    message.__paypalStandIn = this._id;
    this._frame.contentWindow.postMessage(message, ORIGIN);
  };

  Buttons.prototype._request = function (type, payload) {
    var self = this;
    if (!this._frame) return Promise.reject(new Error('Buttons are not rendered'));
    var requestId = String(++this._requestCount);
    return new Promise(function (resolve, reject) {
      self._requests[requestId] = { resolve: resolve, reject: reject };
      self._send(Object.assign({ type: type, requestId: requestId }, payload || {}));
    });
  };

  Buttons.prototype._onMessage = function (event) {
    if (!this._frame || event.origin !== ORIGIN || event.source !== this._frame.contentWindow) return;
    var data = event.data;
    if (!data || data.__paypalStandIn !== this._id) return;
    var o = this._options;
    switch (data.type) {
      case 'ready':
        if (this._rendered) {
          this._rendered.resolve();
          this._rendered = null;
        }
        if (typeof o.onInit === 'function') {
          var self = this;
          try {
            o.onInit({}, {
              enable: function () { self._send({ type: 'enable' }); return Promise.resolve(); },
              disable: function () { self._send({ type: 'disable' }); return Promise.resolve(); }
            });
          } catch (e) { report(o.onError, asError(e)); }
        }
        break;
      case 'click':
        this._click(this._funding().indexOf(data.fundingSource) >= 0 ? data.fundingSource : 'paypal');
        break;
      case 'approve':
        this._approve(data);
        break;
      case 'cancel':
        if (typeof o.onCancel === 'function') {
          try { o.onCancel({ orderID: data.orderID }); } catch (e) { report(o.onError, asError(e)); }
        }
        break;
      case 'error':
        report(o.onError, new Error(String(data.message || 'PayPal checkout failed')));
        break;
      case 'result': {
        var request = this._requests[data.requestId];
        delete this._requests[data.requestId];
        if (request) {
          if (data.error) request.reject(new Error(String(data.error)));
          else request.resolve(data.result);
        }
        break;
      }
      default:
        break;
    }
  };

  // data.fundingSource / data.paymentSource name the button pressed (onClick: "Display funding
  // source used", developer.paypal.com; createOrder: @paypal/paypal-js CreateOrderData).
  Buttons.prototype._click = async function (fundingSource) {
    var o = this._options;
    if (typeof o.onClick === 'function') {
      var decided = null;
      var actions = {
        resolve: function () { decided = true; return Promise.resolve(); },
        reject: function () { decided = false; return Promise.resolve(); }
      };
      try {
        var answer = await o.onClick({ fundingSource: fundingSource }, actions);
        if (answer === false || decided === false) {
          this._send({ type: 'abort' });
          return;
        }
      } catch (e) {
        this._send({ type: 'abort' });
        report(o.onError, asError(e));
        return;
      }
    }
    if (typeof o.createOrder !== 'function') {
      this._send({ type: 'abort' });
      report(o.onError, new Error('Expected createOrder to be passed'));
      return;
    }
    var orderID;
    try {
      orderID = await o.createOrder({ paymentSource: fundingSource }, {});
    } catch (e) {
      this._send({ type: 'abort' });
      report(o.onError, asError(e));
      return;
    }
    if (typeof orderID !== 'string' || !orderID) {
      this._send({ type: 'abort' });
      report(o.onError, new Error('Expected an order id to be passed'));
      return;
    }
    this._send({ type: 'order', orderID: orderID });
  };

  Buttons.prototype._approve = async function (data) {
    var self = this;
    var o = this._options;
    var restarted = false;
    var orderID = data.orderID;
    var actions = {
      order: {
        get: function () { return self._request('get_order', { orderID: orderID }); }
      },
      restart: function () {
        restarted = true;
        self._send({ type: 'restart', orderID: orderID });
      },
      redirect: function (url) { window.location.assign(url); }
    };
    var payload = {
      orderID: orderID,
      payerID: data.payerID || null,
      paymentID: null,
      billingToken: null,
      facilitatorAccessToken: data.facilitatorAccessToken
    };
    try {
      if (typeof o.onApprove === 'function') await o.onApprove(payload, actions);
    } catch (e) {
      report(o.onError, asError(e));
    }
    if (!restarted) this._send({ type: 'done' });
  };

  var FUNDING = { PAYPAL: 'paypal', PAYLATER: 'paylater', CARD: 'card', CREDIT: 'credit', VENMO: 'venmo' };
  var api = {
    version: '5.0.0-paygate-sandbox',
    FUNDING: FUNDING,
    getFundingSources: function () { return CONFIG.funding.slice(); },
    isFundingEligible: function (source) { return CONFIG.funding.indexOf(source) >= 0; }
  };
  if (CONFIG.components.indexOf('buttons') >= 0) api.Buttons = Buttons;
  window[namespace] = api;
})();
