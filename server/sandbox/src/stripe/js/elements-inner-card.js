/*
 * paygate sandbox: the card frame of the Stripe.js stand-in. It runs on the emulator's origin;
 * the card number, expiry and security code typed here are sent only to the emulator
 * (POST /v1/payment_methods with the publishable key). The parent page gets events
 * (ready/change/focus/blur/resize) and, when it asks, the PaymentMethod id, by postMessage to
 * the parent origin named in this frame's URL fragment; only messages from that origin and
 * from the parent window are obeyed.
 */
(function () {
  'use strict';

  var hash = new URLSearchParams(location.hash.slice(1));
  var parentOrigin = (function (o) {
    try { return o && new URL(o).origin === o ? o : null; } catch (e) { return null; }
  })(hash.get('origin'));
  var frameId = hash.get('id') || '';
  var key = hash.get('key') || '';
  var BASE = location.href.replace(/\/js\/elements-inner-card\.html.*$/, '');

  var number = document.getElementById('number');
  var expiry = document.getElementById('expiry');
  var cvc = document.getElementById('cvc');
  var postal = document.getElementById('postal');
  var errorBox = document.getElementById('error');
  var fields = [number, expiry, cvc, postal];
  var last = { empty: true, complete: false };
  var readOnly = false;

  function post(message) {
    if (!parentOrigin || window.parent === window) return;
    message.__stripeStandIn = frameId;
    window.parent.postMessage(message, parentOrigin);
  }

  function digits(s) { return s.replace(/\D/g, ''); }

  function brand(n) {
    if (/^3[47]/.test(n)) return 'amex';
    if (/^3(0|6|8)/.test(n)) return 'diners';
    if (/^4/.test(n)) return 'visa';
    if (/^(5[1-5]|2[2-7])/.test(n)) return 'mastercard';
    if (/^(6011|65)/.test(n)) return 'discover';
    if (/^35/.test(n)) return 'jcb';
    if (/^62/.test(n)) return 'unionpay';
    return 'unknown';
  }

  function lengthFor(b) {
    return b === 'amex' ? 15 : b === 'diners' ? 14 : 16;
  }

  function luhn(n) {
    var sum = 0;
    for (var i = 0; i < n.length; i++) {
      var d = Number(n[n.length - 1 - i]);
      if (i % 2 === 1) { d *= 2; if (d > 9) d -= 9; }
      sum += d;
    }
    return n.length > 0 && sum % 10 === 0;
  }

  function formatNumber(n) {
    if (brand(n) === 'amex') {
      return [n.slice(0, 4), n.slice(4, 10), n.slice(10, 15)].filter(Boolean).join(' ');
    }
    return (n.match(/.{1,4}/g) || []).join(' ');
  }

  function parseExpiry() {
    var d = digits(expiry.value);
    return { month: Number(d.slice(0, 2)), year: d.length >= 4 ? 2000 + Number(d.slice(2, 4)) : NaN, raw: d };
  }

  // The first problem with the fields, as Stripe.js reports validation errors.
  function problem() {
    var n = digits(number.value);
    var b = brand(n);
    if (n.length < lengthFor(b)) return ['incomplete_number', 'Your card number is incomplete.', number];
    if (!luhn(n)) return ['invalid_number', 'Your card number is invalid.', number];
    var e = parseExpiry();
    if (e.raw.length < 4) return ['incomplete_expiry', "Your card's expiration date is incomplete.", expiry];
    if (e.month < 1 || e.month > 12) return ['invalid_expiry_month', "Your card's expiration month is invalid.", expiry];
    var now = new Date();
    var thisYear = now.getFullYear();
    if (e.year < thisYear) return ['invalid_expiry_year_past', "Your card's expiration year is in the past.", expiry];
    if (e.year === thisYear && e.month < now.getMonth() + 1) return ['invalid_expiry_month_past', "Your card's expiration date is in the past.", expiry];
    if (e.year > thisYear + 50) return ['invalid_expiry_year', "Your card's expiration year is invalid.", expiry];
    var c = digits(cvc.value);
    if (c.length < (b === 'amex' ? 4 : 3)) return ['incomplete_cvc', "Your card's security code is incomplete.", cvc];
    return null;
  }

  function showError(p) {
    fields.forEach(function (f) { f.removeAttribute('aria-invalid'); });
    errorBox.textContent = p ? p[1] : '';
    if (p) p[2].setAttribute('aria-invalid', 'true');
    resize();
  }

  function changed() {
    var empty = fields.every(function (f) { return f.value === ''; });
    var complete = problem() === null;
    if (empty !== last.empty || complete !== last.complete) {
      last = { empty: empty, complete: complete };
      post({ type: 'change', empty: empty, complete: complete });
    }
  }

  function resize() {
    post({ type: 'resize', height: document.documentElement.scrollHeight });
  }

  number.addEventListener('input', function () {
    var n = digits(number.value).slice(0, 19);
    number.value = formatNumber(n);
    if (n.length >= lengthFor(brand(n))) expiry.focus();
    changed();
  });
  expiry.addEventListener('input', function (ev) {
    var d = digits(expiry.value).slice(0, 4);
    if (d.length === 1 && Number(d) > 1) d = '0' + d;
    var deleting = ev.inputType && ev.inputType.indexOf('delete') === 0;
    expiry.value = d.length > 2 || (d.length === 2 && !deleting) ? d.slice(0, 2) + ' / ' + d.slice(2) : d;
    if (d.length === 4) cvc.focus();
    changed();
  });
  cvc.addEventListener('input', function () {
    cvc.value = digits(cvc.value).slice(0, 4);
    changed();
  });
  postal.addEventListener('input', changed);
  fields.forEach(function (f) {
    f.addEventListener('focus', function () { post({ type: 'focus' }); });
    f.addEventListener('blur', function () {
      post({ type: 'blur' });
      var p = problem();
      // Only complain about fields the customer has left.
      showError(p && p[2].value !== '' && p[2] !== document.activeElement ? p : null);
    });
  });
  document.getElementById('card').addEventListener('submit', function (ev) { ev.preventDefault(); });

  var VARIABLES = {
    colorPrimary: '--pg-color-primary',
    colorBackground: '--pg-color-background',
    colorText: '--pg-color-text',
    colorDanger: '--pg-color-danger',
    borderRadius: '--pg-border-radius',
    fontFamily: '--pg-font-family',
    fontSizeBase: '--pg-font-size-base',
    spacingUnit: '--pg-spacing-unit'
  };
  var THEMES = {
    night: { colorPrimary: '#0085ff', colorBackground: '#30313d', colorText: '#ffffff' },
    flat: { borderRadius: '0px' }
  };

  function applyAppearance(appearance) {
    appearance = appearance || {};
    var vars = Object.assign({}, THEMES[appearance.theme] || {}, appearance.variables || {});
    Object.keys(VARIABLES).forEach(function (name) {
      var value = vars[name];
      if (typeof value === 'string' && value.length < 200) {
        document.documentElement.style.setProperty(VARIABLES[name], value);
      } else {
        document.documentElement.style.removeProperty(VARIABLES[name]);
      }
    });
    resize();
  }

  function reply(requestId, result) {
    post({ type: 'result', requestId: requestId, result: result });
  }

  function validationError(p) {
    return { type: 'validation_error', code: p[0], message: p[1] };
  }

  async function createPaymentMethod(billing) {
    var p = problem();
    if (p) {
      showError(p);
      return { error: validationError(p) };
    }
    var e = parseExpiry();
    var body = new URLSearchParams();
    body.set('type', 'card');
    body.set('card[number]', digits(number.value));
    body.set('card[exp_month]', String(e.month));
    body.set('card[exp_year]', String(e.year));
    body.set('card[cvc]', digits(cvc.value));
    if (postal.value.trim()) body.set('billing_details[address][postal_code]', postal.value.trim());
    if (billing && typeof billing === 'object') {
      ['name', 'email', 'phone'].forEach(function (k) {
        if (typeof billing[k] === 'string' && billing[k]) body.set('billing_details[' + k + ']', billing[k]);
      });
      var address = billing.address;
      if (address && typeof address === 'object') {
        ['city', 'country', 'line1', 'line2', 'postal_code', 'state'].forEach(function (k) {
          if (typeof address[k] === 'string' && address[k]) body.set('billing_details[address][' + k + ']', address[k]);
        });
      }
    }
    try {
      var response = await fetch(BASE + '/v1/payment_methods', {
        method: 'POST',
        credentials: 'omit',
        headers: { Authorization: 'Bearer ' + key, 'Content-Type': 'application/x-www-form-urlencoded' },
        body: body.toString()
      });
      var json = await response.json();
      if (response.status !== 200) {
        errorBox.textContent = json.error && json.error.message ? json.error.message : 'Your card could not be saved.';
        return { error: json.error };
      }
      return { paymentMethod: { id: json.id, type: 'card', card: { brand: json.card.brand, last4: json.card.last4 } } };
    } catch (err) {
      return { error: { type: 'api_connection_error', message: 'We could not reach Stripe. Check your connection and try again.' } };
    }
  }

  window.addEventListener('message', async function (event) {
    if (!parentOrigin || event.origin !== parentOrigin || event.source !== window.parent) return;
    var data = event.data;
    if (!data || data.__stripeStandIn !== frameId) return;
    switch (data.type) {
      case 'appearance':
        applyAppearance(data.appearance);
        break;
      case 'options':
        readOnly = !!(data.options && data.options.readOnly);
        fields.forEach(function (f) { f.readOnly = readOnly; });
        break;
      case 'focus':
        number.focus();
        break;
      case 'blur':
        if (document.activeElement && document.activeElement.blur) document.activeElement.blur();
        break;
      case 'clear':
        fields.forEach(function (f) { f.value = ''; });
        showError(null);
        changed();
        break;
      case 'validate': {
        var p = problem();
        showError(p);
        reply(data.requestId, p ? { error: validationError(p) } : {});
        break;
      }
      case 'create_payment_method':
        reply(data.requestId, await createPaymentMethod(data.billing_details));
        break;
      default:
        break;
    }
  });

  if (typeof ResizeObserver === 'function') {
    new ResizeObserver(resize).observe(document.body);
  }
  post({ type: 'ready' });
  resize();
})();
