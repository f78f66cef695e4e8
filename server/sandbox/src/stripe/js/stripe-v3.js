/*
 * paygate sandbox: a stand-in for Stripe.js v3, served by the Stripe emulator at /js/v3/.
 *
 * It implements the subset of the real Stripe.js API that paygate's widget uses, with the
 * same names and result shapes (checked against @stripe/stripe-js by typecheck/):
 *   Stripe(publishableKey) -> { elements, confirmPayment, confirmCardPayment, confirmSetup,
 *                               retrievePaymentIntent, retrieveSetupIntent }
 *   elements({clientSecret, appearance}) -> { create('payment'), getElement, update, submit, fetchUpdates }
 *   element: mount, unmount, destroy, update, on/once/off('change'|'ready'|'focus'|'blur'|...),
 *            focus, blur, clear, collapse
 * Card fields live in a frame served from the emulator's origin; card data typed there goes
 * only to the emulator (POST /v1/payment_methods with the publishable key, from inside the
 * frame). This page and the frame talk by postMessage with explicit target origins and
 * origin checks. 3-D Secure opens the emulator's challenge page in a modal frame.
 * Plain ES2017, no dependencies.
 */
(function () {
  'use strict';

  var CONFIGURED_BASE = "__PAYGATE_STRIPE_BASE__";
  var BASE = (function () {
    var src = document.currentScript && document.currentScript.src;
    var m = src && src.match(/^(.*)\/js\/v3\/?(?:[?#].*)?$/);
    return m ? m[1] : CONFIGURED_BASE;
  })();
  var EMULATOR_ORIGIN = new URL(BASE, location.href).origin;
  var frameCount = 0;

  function encode(params, prefix, out) {
    out = out || [];
    Object.keys(params).forEach(function (k) {
      var v = params[k];
      var key = prefix ? prefix + '[' + k + ']' : k;
      if (v === undefined || v === null) return;
      if (Array.isArray(v)) {
        v.forEach(function (item, i) {
          if (item !== null && typeof item === 'object') encode(item, key + '[' + i + ']', out);
          else out.push(encodeURIComponent(key + '[' + i + ']') + '=' + encodeURIComponent(String(item)));
        });
      } else if (typeof v === 'object') {
        encode(v, key, out);
      } else {
        out.push(encodeURIComponent(key) + '=' + encodeURIComponent(String(v)));
      }
    });
    return out.join('&');
  }

  function connectionError(e) {
    return {
      type: 'api_connection_error',
      message: 'We could not reach Stripe. Check your connection and try again.' + (e && e.message ? ' (' + e.message + ')' : '')
    };
  }

  async function api(method, path, key, params) {
    var body = params ? encode(params) : '';
    var url = BASE + path;
    if (method === 'GET' && body) {
      url += '?' + body;
      body = '';
    }
    var response;
    try {
      response = await fetch(url, {
        method: method,
        credentials: 'omit',
        headers: {
          Authorization: 'Bearer ' + key,
          'Content-Type': 'application/x-www-form-urlencoded'
        },
        body: method === 'GET' ? undefined : body
      });
      return { status: response.status, body: await response.json() };
    } catch (e) {
      return { status: 0, body: { error: connectionError(e) } };
    }
  }

  function intentId(clientSecret) {
    var i = typeof clientSecret === 'string' ? clientSecret.indexOf('_secret_') : -1;
    return i > 0 ? clientSecret.slice(0, i) : null;
  }

  function integrationError(message) {
    var e = new Error(message);
    e.name = 'IntegrationError';
    return e;
  }

  function setStyles(el, styles) {
    Object.keys(styles).forEach(function (k) { el.style[k] = styles[k]; });
  }

  // ---- Payment Element ----------------------------------------------------------------------

  function PaymentElement(group, options) {
    this._group = group;
    this._options = options || {};
    this._handlers = {};
    this._frame = null;
    this._frameId = 'pgse' + (++frameCount) + '_' + Math.random().toString(36).slice(2, 10);
    this._requests = {};
    this._requestCount = 0;
    this._ready = false;
    this._queue = [];
    this._listener = this._onMessage.bind(this);
  }

  PaymentElement.prototype.on = function (event, handler) {
    (this._handlers[event] = this._handlers[event] || []).push({ fn: handler, once: false });
    return this;
  };
  PaymentElement.prototype.once = function (event, handler) {
    (this._handlers[event] = this._handlers[event] || []).push({ fn: handler, once: true });
    return this;
  };
  PaymentElement.prototype.off = function (event, handler) {
    var list = this._handlers[event] || [];
    this._handlers[event] = handler ? list.filter(function (h) { return h.fn !== handler; }) : [];
    return this;
  };
  PaymentElement.prototype._emit = function (event, payload) {
    var list = this._handlers[event] || [];
    this._handlers[event] = list.filter(function (h) { return !h.once; });
    list.forEach(function (h) {
      try { h.fn(payload); } catch (e) { setTimeout(function () { throw e; }); }
    });
  };

  PaymentElement.prototype.mount = function (target) {
    var container = typeof target === 'string' ? document.querySelector(target) : target;
    if (!container || !container.appendChild) {
      throw integrationError('The selector you specified (' + String(target) + ') applies to no DOM elements that are currently on the page.');
    }
    if (this._frame) this.unmount();
    var hash = new URLSearchParams({
      origin: location.origin,
      id: this._frameId,
      key: this._group._stripe._key
    });
    var frame = document.createElement('iframe');
    frame.src = BASE + '/js/elements-inner-card.html#' + hash.toString();
    frame.title = 'Secure payment input frame';
    frame.name = this._frameId;
    frame.setAttribute('allow', 'payment');
    frame.setAttribute('frameborder', '0');
    frame.setAttribute('scrolling', 'no');
    setStyles(frame, { border: '0', width: '100%', height: '260px', display: 'block', colorScheme: 'normal', overflow: 'hidden' });
    this._frame = frame;
    this._ready = false;
    window.addEventListener('message', this._listener);
    container.appendChild(frame);
    // The real element loads what it shows with the client secret and the key; when that
    // fails it emits `loaderror` ({elementType, error}: docs.stripe.com/js/element/events/
    // on_loaderror) instead of `ready`. The stand-in reads the PaymentIntent the same way.
    var self = this;
    var secret = this._group._clientSecret;
    this._loaded = !secret ? Promise.resolve(null) : this._group._stripe._retrieve(secret).then(function (r) {
      return r.error || null;
    }, function (e) {
      return { type: 'invalid_request_error', message: e && e.message ? e.message : String(e) };
    });
    this._loaded.then(function (error) {
      if (!error || self._frame !== frame) return;
      self.unmount();
      self._emit('loaderror', { elementType: 'payment', error: error });
    });
  };

  PaymentElement.prototype.unmount = function () {
    window.removeEventListener('message', this._listener);
    if (this._frame && this._frame.parentNode) this._frame.parentNode.removeChild(this._frame);
    this._frame = null;
    this._ready = false;
    var requests = this._requests;
    this._requests = {};
    Object.keys(requests).forEach(function (id) {
      requests[id]({ error: { type: 'validation_error', message: 'The Payment Element was unmounted.' } });
    });
  };

  PaymentElement.prototype.destroy = function () {
    this.unmount();
    this._handlers = {};
    if (this._group._element === this) this._group._element = null;
  };

  PaymentElement.prototype.update = function (options) {
    this._options = Object.assign({}, this._options, options || {});
    this._send({ type: 'options', options: { readOnly: !!this._options.readOnly } });
    return this;
  };
  PaymentElement.prototype.focus = function () { this._send({ type: 'focus' }); return this; };
  PaymentElement.prototype.blur = function () { this._send({ type: 'blur' }); return this; };
  PaymentElement.prototype.clear = function () { this._send({ type: 'clear' }); return this; };
  PaymentElement.prototype.collapse = function () { return this; };

  PaymentElement.prototype._send = function (message) {
    message.__stripeStandIn = this._frameId;
    if (!this._frame) return;
    if (!this._ready) {
      this._queue.push(message);
      return;
    }
    this._frame.contentWindow.postMessage(message, EMULATOR_ORIGIN);
  };

  PaymentElement.prototype._request = function (type, payload) {
    var self = this;
    if (!this._frame) {
      return Promise.resolve({ error: { type: 'validation_error', message: 'The Payment Element is not mounted.' } });
    }
    var requestId = String(++this._requestCount);
    return new Promise(function (resolve) {
      self._requests[requestId] = resolve;
      self._send(Object.assign({ type: type, requestId: requestId }, payload || {}));
    });
  };

  PaymentElement.prototype._onMessage = function (event) {
    if (!this._frame || event.origin !== EMULATOR_ORIGIN || event.source !== this._frame.contentWindow) return;
    var data = event.data;
    if (!data || data.__stripeStandIn !== this._frameId) return;
    switch (data.type) {
      case 'ready': {
        this._ready = true;
        this._frame.contentWindow.postMessage({
          __stripeStandIn: this._frameId,
          type: 'appearance',
          appearance: this._group._appearance || {}
        }, EMULATOR_ORIGIN);
        var queued = this._queue;
        this._queue = [];
        queued.forEach(this._send, this);
        var self = this;
        var frame = this._frame;
        this._loaded.then(function (error) {
          if (!error && self._frame === frame) self._emit('ready', { elementType: 'payment' });
        });
        break;
      }
      case 'change':
        this._emit('change', {
          elementType: 'payment',
          empty: !!data.empty,
          complete: !!data.complete,
          collapsed: false,
          value: { type: 'card' }
        });
        break;
      case 'focus':
      case 'blur':
        this._emit(data.type, { elementType: 'payment' });
        break;
      case 'resize':
        if (typeof data.height === 'number' && data.height > 0 && data.height < 2000) {
          this._frame.style.height = Math.ceil(data.height) + 'px';
        }
        break;
      case 'result': {
        var resolve = this._requests[data.requestId];
        delete this._requests[data.requestId];
        if (resolve) resolve(data.result || {});
        break;
      }
      default:
        break;
    }
  };

  // ---- Elements group -------------------------------------------------------------------------

  function Elements(stripe, options) {
    this._stripe = stripe;
    this._clientSecret = options.clientSecret;
    this._mode = options.mode;
    this._appearance = options.appearance || {};
    this._element = null;
  }

  Elements.prototype.create = function (type, options) {
    if (type !== 'payment') {
      throw integrationError('The paygate sandbox Stripe.js stand-in only supports the "payment" Element, not "' + type + '".');
    }
    // Stripe.js throws this synchronously from create() (the group itself is made without
    // complaint); docs.stripe.com/js/elements_object/create: clientSecret is "Required to use
    // with the Payment Element", or `mode` for a deferred intent.
    if (!this._clientSecret && !this._mode) {
      throw integrationError('In order to create a payment element, you must pass a clientSecret or mode when creating the Elements group.\n\ne.g. stripe.elements({clientSecret: "{{CLIENT_SECRET}}"})');
    }
    if (this._element) throw integrationError('Can only create one Element of type payment.');
    this._element = new PaymentElement(this, options);
    return this._element;
  };
  Elements.prototype.getElement = function (type) {
    return type === 'payment' ? this._element : null;
  };
  Elements.prototype.update = function (options) {
    if (options && options.appearance) {
      this._appearance = options.appearance;
      if (this._element) this._element._send({ type: 'appearance', appearance: this._appearance });
    }
    return Promise.resolve();
  };
  Elements.prototype.fetchUpdates = function () {
    return Promise.resolve({});
  };
  Elements.prototype.submit = async function () {
    if (!this._element || !this._element._frame) {
      return { error: { type: 'validation_error', message: 'Mount the Payment Element before calling elements.submit().' } };
    }
    var result = await this._element._request('validate');
    return result.error ? { error: result.error } : { selectedPaymentMethod: 'card' };
  };

  // ---- Stripe -------------------------------------------------------------------------------

  function Stripe(key, options) {
    if (!(this instanceof Stripe)) return new Stripe(key, options);
    if (typeof key !== 'string' || key.indexOf('pk_') !== 0) {
      throw integrationError('Invalid value for Stripe(): apiKey should be a publishable key (pk_...). You specified: ' + String(key) + '.');
    }
    this._key = key;
  }

  Stripe.prototype.elements = function (options) {
    return new Elements(this, options || {});
  };

  Stripe.prototype.retrievePaymentIntent = async function (clientSecret) {
    var id = intentId(clientSecret);
    if (!id) throw integrationError('Invalid value for retrievePaymentIntent: clientSecret should be a client secret of the form ${id}_secret_${secret}.');
    var r = await api('GET', '/v1/payment_intents/' + encodeURIComponent(id), this._key, { client_secret: clientSecret });
    return r.status === 200 ? { paymentIntent: r.body } : { error: r.body.error };
  };

  Stripe.prototype.retrieveSetupIntent = async function (clientSecret) {
    var id = intentId(clientSecret);
    if (!id) throw integrationError('Invalid value for retrieveSetupIntent: clientSecret should be a client secret of the form ${id}_secret_${secret}.');
    var r = await api('GET', '/v1/setup_intents/' + encodeURIComponent(id), this._key, { client_secret: clientSecret });
    return r.status === 200 ? { setupIntent: r.body } : { error: r.body.error };
  };

  // The PaymentIntent or SetupIntent a client secret belongs to, as {intent} or {error}.
  Stripe.prototype._retrieve = async function (clientSecret) {
    var setup = (intentId(clientSecret) || '').indexOf('seti_') === 0;
    var r = setup ? await this.retrieveSetupIntent(clientSecret) : await this.retrievePaymentIntent(clientSecret);
    return r.error ? { error: r.error } : { intent: setup ? r.setupIntent : r.paymentIntent };
  };

  // What stripe.confirmPayment and stripe.confirmSetup share: the options checked as Stripe.js
  // checks them, the card typed in the Payment Element made into a PaymentMethod, the intent
  // (`kind`: 'payment_intents' or 'setup_intents') confirmed with it, and any next action (3-D
  // Secure) run. Resolves {intent, confirmParams, redirect} or {error}.
  Stripe.prototype._confirmWithElement = async function (name, kind, options) {
    options = options || {};
    var elements = options.elements;
    var clientSecret = options.clientSecret || (elements && elements._clientSecret);
    var confirmParams = options.confirmParams || {};
    var redirect = options.redirect || 'always';
    if (!elements || !(elements instanceof Elements)) {
      throw integrationError('stripe.' + name + '(): expected the `elements` option to be an Elements instance.');
    }
    if (redirect !== 'if_required' && !confirmParams.return_url) {
      throw integrationError('stripe.' + name + '(): the `confirmParams.return_url` argument is required unless passing `redirect: \'if_required\'`');
    }
    var id = intentId(clientSecret);
    if (!id || (kind === 'setup_intents') !== (id.indexOf('seti_') === 0)) {
      throw integrationError('stripe.' + name + '(): a ' + (kind === 'setup_intents' ? 'SetupIntent' : 'PaymentIntent') + ' clientSecret is required (pass it to stripe.elements()).');
    }
    var element = elements._element;
    if (!element) {
      return { error: { type: 'validation_error', message: 'Mount the Payment Element before calling stripe.' + name + '().' } };
    }
    var valid = await element._request('validate');
    if (valid.error) return { error: valid.error };
    var pmData = confirmParams.payment_method_data || {};
    var created = await element._request('create_payment_method', { billing_details: pmData.billing_details || null });
    if (created.error) return { error: created.error };
    var params = { client_secret: clientSecret, payment_method: created.paymentMethod.id, use_stripe_sdk: 'true' };
    if (confirmParams.return_url) params.return_url = confirmParams.return_url;
    if (confirmParams.receipt_email && kind === 'payment_intents') params.receipt_email = confirmParams.receipt_email;
    var r = await api('POST', '/v1/' + kind + '/' + encodeURIComponent(id) + '/confirm', this._key, params);
    if (r.status !== 200) return { error: r.body.error };
    var intent = r.body;
    if (intent.status === 'requires_action' && intent.next_action) {
      var acted = await this._handleNextAction(intent, clientSecret);
      if (acted.error) return { error: acted.error };
      intent = acted.intent;
    }
    return { intent: intent, confirmParams: confirmParams, redirect: redirect };
  };

  // stripe.confirmSetup({elements, confirmParams, redirect}): saves the card typed in the Payment
  // Element on the SetupIntent whose client secret the Elements group holds, running 3-D Secure
  // if the bank asks (docs.stripe.com/js/setup_intents/confirm_setup). Resolves {setupIntent} or
  // {error}; a failed setup's error carries the SetupIntent (`error.setup_intent`).
  Stripe.prototype.confirmSetup = async function (options) {
    var done = await this._confirmWithElement('confirmSetup', 'setup_intents', options);
    if (done.error) return { error: done.error };
    var intent = done.intent;
    if (intent.status === 'requires_payment_method' && intent.last_setup_error) {
      return { error: Object.assign({}, intent.last_setup_error, { setup_intent: intent }) };
    }
    if (intent.status === 'succeeded' && done.redirect !== 'if_required' && done.confirmParams.return_url) {
      var url = new URL(done.confirmParams.return_url);
      url.searchParams.set('setup_intent', intent.id);
      url.searchParams.set('setup_intent_client_secret', intent.client_secret);
      url.searchParams.set('redirect_status', 'succeeded');
      window.location.assign(url.toString());
      return new Promise(function () {});
    }
    return { setupIntent: intent };
  };

  Stripe.prototype.confirmPayment = async function (options) {
    var done = await this._confirmWithElement('confirmPayment', 'payment_intents', options);
    if (done.error) return { error: done.error };
    return this._settle(done.intent, done.confirmParams, done.redirect);
  };

  // stripe.confirmCardPayment(clientSecret, data?): confirms with a card PaymentMethod and runs
  // any next action (3-D Secure) itself (docs.stripe.com/js/payment_intents/confirm_card_payment).
  // The stand-in takes what paygate sends: `data.payment_method` as the id of a saved card.
  Stripe.prototype.confirmCardPayment = async function (clientSecret, data) {
    data = data || {};
    var id = intentId(clientSecret);
    if (!id) throw integrationError('Invalid value for confirmCardPayment: clientSecret should be a client secret of the form ${id}_secret_${secret}.');
    if (data.payment_method !== undefined && typeof data.payment_method !== 'string') {
      throw integrationError('stripe.confirmCardPayment(): this sandbox stand-in takes data.payment_method as a PaymentMethod id (pm_...).');
    }
    var params = { client_secret: clientSecret, use_stripe_sdk: 'true' };
    if (data.payment_method) params.payment_method = data.payment_method;
    if (data.return_url) params.return_url = data.return_url;
    if (data.setup_future_usage) params.setup_future_usage = data.setup_future_usage;
    var r = await api('POST', '/v1/payment_intents/' + encodeURIComponent(id) + '/confirm', this._key, params);
    if (r.status !== 200) return { error: r.body.error };
    var intent = r.body;
    if (intent.status === 'requires_action' && intent.next_action) {
      var acted = await this._handleNextAction(intent, clientSecret);
      if (acted.error) return { error: acted.error };
      intent = acted.intent;
    }
    return this._settle(intent, {}, 'if_required');
  };

  Stripe.prototype._settle = function (intent, confirmParams, redirect) {
    if (intent.status === 'requires_payment_method' && intent.last_payment_error) {
      return { error: Object.assign({}, intent.last_payment_error, { payment_intent: intent }) };
    }
    var done = intent.status === 'succeeded' || intent.status === 'processing' || intent.status === 'requires_capture';
    if (done && redirect !== 'if_required' && confirmParams.return_url) {
      var url = new URL(confirmParams.return_url);
      url.searchParams.set('payment_intent', intent.id);
      url.searchParams.set('payment_intent_client_secret', intent.client_secret);
      url.searchParams.set('redirect_status', intent.status === 'processing' ? 'pending' : 'succeeded');
      window.location.assign(url.toString());
      return new Promise(function () {});
    }
    return { paymentIntent: intent };
  };

  Stripe.prototype._handleNextAction = async function (intent, clientSecret) {
    var action = intent.next_action;
    if (action.type === 'redirect_to_url') {
      window.location.assign(action.redirect_to_url.url);
      return new Promise(function () {});
    }
    var sdk = action.type === 'use_stripe_sdk' ? action.use_stripe_sdk : null;
    if (!sdk || sdk.type !== 'stripe_3ds2_fingerprint' || !sdk.three_d_secure_2_source) {
      return { error: { type: 'invalid_request_error', message: 'Unsupported next action: ' + action.type } };
    }
    // 3-D Secure 2, as Stripe.js runs it: the source goes to /v1/3ds2/authenticate, whose
    // answer says whether the issuer wants a challenge and where (ares.acsURL).
    var auth = await api('POST', '/v1/3ds2/authenticate', this._key, {
      source: sdk.three_d_secure_2_source,
      browser: JSON.stringify({
        fingerprintAttempted: false, challengeWindowSize: null, threeDSCompInd: 'U',
        browserLanguage: navigator.language, browserColorDepth: String(screen.colorDepth),
        browserScreenHeight: String(screen.height), browserScreenWidth: String(screen.width),
        browserTZ: String(new Date().getTimezoneOffset()), browserUserAgent: navigator.userAgent
      })
    });
    if (auth.status !== 200) return { error: auth.body.error };
    if (auth.body.state !== 'challenge_required' || !auth.body.ares || !auth.body.ares.acsURL) {
      return this._retrieve(clientSecret);
    }
    var url = new URL(auth.body.ares.acsURL);
    if (url.origin !== EMULATOR_ORIGIN) {
      return { error: { type: 'invalid_request_error', message: 'Unexpected authentication URL.' } };
    }
    url.searchParams.set('origin', location.origin);
    var self = this;
    await new Promise(function (resolve) {
      var overlay = document.createElement('div');
      overlay.setAttribute('role', 'dialog');
      overlay.setAttribute('aria-modal', 'true');
      overlay.setAttribute('aria-label', '3D Secure authentication');
      overlay.className = '__PaygateStripe3DS';
      setStyles(overlay, {
        position: 'fixed', top: '0', left: '0', right: '0', bottom: '0', zIndex: '2147483647',
        background: 'rgba(0,0,0,0.5)', display: 'flex', alignItems: 'center', justifyContent: 'center'
      });
      var box = document.createElement('div');
      setStyles(box, {
        position: 'relative', width: '400px', maxWidth: '95vw', height: '520px', maxHeight: '95vh',
        background: '#fff', borderRadius: '8px', overflow: 'hidden', boxShadow: '0 10px 40px rgba(0,0,0,0.3)'
      });
      var close = document.createElement('button');
      close.type = 'button';
      close.textContent = '\u00d7';
      close.setAttribute('aria-label', 'Cancel authentication');
      setStyles(close, {
        position: 'absolute', top: '4px', right: '8px', border: '0', background: 'transparent',
        fontSize: '24px', cursor: 'pointer', zIndex: '1'
      });
      var frame = document.createElement('iframe');
      frame.src = url.toString();
      frame.title = '3D Secure authentication';
      setStyles(frame, { border: '0', width: '100%', height: '100%', display: 'block' });
      box.appendChild(close);
      box.appendChild(frame);
      overlay.appendChild(box);
      document.body.appendChild(overlay);
      var finished = false;
      var timer = null;
      function finish() {
        if (finished) return;
        finished = true;
        window.removeEventListener('message', onMessage);
        clearInterval(timer);
        if (overlay.parentNode) overlay.parentNode.removeChild(overlay);
        resolve();
      }
      function onMessage(event) {
        if (event.origin !== EMULATOR_ORIGIN || event.source !== frame.contentWindow) return;
        var data = event.data;
        if (data && data.type === 'paygate-stripe-3ds-done' && data.payment_intent === intent.id) finish();
      }
      window.addEventListener('message', onMessage);
      // Also poll, in case the message is lost (the challenge page navigated elsewhere).
      timer = setInterval(async function () {
        var r = await self._retrieve(clientSecret);
        if (r.intent && r.intent.status !== 'requires_action') finish();
      }, 1500);
      close.addEventListener('click', async function () {
        // Closing the challenge fails the authentication, as Stripe.js does.
        try {
          await fetch(BASE + '/3ds/' + encodeURIComponent(intent.id) + '/fail', {
            method: 'POST',
            mode: 'no-cors',
            credentials: 'omit',
            headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
            body: encode({ client_secret: clientSecret })
          });
        } catch (e) { /* the poll settles it */ }
        finish();
      });
    });
    return this._retrieve(clientSecret);
  };

  window.Stripe = Stripe;
})();
