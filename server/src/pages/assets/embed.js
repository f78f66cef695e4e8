/*
 * paygate embed loader. Merchants include it with one script tag:
 *
 *   <script src="https://pay.example.com/embed.js"></script>
 *   <div id="checkout"></div>
 *   <script>
 *     Paygate.mount('#checkout', {
 *       session: 'cs_...',                       // from your back end (POST /v1/checkout/sessions)
 *       theme: { colorPrimary: '#0a7d5a', radius: '4px', fontFamily: 'Georgia, serif' },
 *       onSuccess: function (e) { ... },         // e = {session, payment}
 *       onCancel: function (e) { ... },          // e = {session, url}: the customer left
 *       onError: function (e) { ... },           // e = {session, code}
 *     });
 *   </script>
 *
 * `theme` keys (docs/EMBEDDING.md): colorPrimary, colorOnPrimary, colorText, colorMuted,
 * colorBackground, colorSurface, colorBorder, colorError, colorErrorBackground (colours: #hex,
 * rgb(), hsl() or a keyword), radius, fontSize (0 or a number with px, rem, em, %), fontFamily
 * (font names). Anything else is ignored with a console warning. Without onCancel, the
 * customer's "Cancel and return" goes to the session's cancel_url.
 *
 * It creates an iframe on paygate's checkout page, resizes it to its content, and forwards the
 * widget's events. Messages are only accepted from paygate's origin and from that iframe, and the
 * widget answers only to the origin given here (never '*'). Several widgets on one page work
 * independently. Dependency-free on purpose: it must stay a few KB.
 */
(function () {
  'use strict';
  var script = document.currentScript;
  if (!script || !script.src) {
    // Guessing (say, the page's own origin) would point the iframe and the message checks at
    // the wrong site: include the loader with <script src="https://<paygate>/embed.js">.
    throw new Error('paygate: load embed.js with a <script src> from paygate itself');
  }
  var ORIGIN = new URL(script.src, location.href).origin;
  var SESSION = /^cs_[A-Za-z0-9]{16,64}$/;

  var COLOR = /^(#([0-9a-f]{3,4}|[0-9a-f]{6}|[0-9a-f]{8})|(rgba?|hsla?)\((\d|deg|[ .,%\/-])+\)|[a-z]{1,30})$/i;
  var LENGTH = /^(0|\d{1,6}(\.\d{1,3})?(px|rem|em|%))$/;
  var NAME = "(\"[\\p{L}\\p{N} ._-]+\"|'[\\p{L}\\p{N} ._-]+'|[\\p{L}\\p{N} ._-]+)";
  var FONT = new RegExp('^\\s*' + NAME + '\\s*(,\\s*' + NAME + '\\s*)*$', 'u');
  var THEME = {
    colorPrimary: COLOR, colorOnPrimary: COLOR, colorText: COLOR, colorMuted: COLOR,
    colorBackground: COLOR, colorSurface: COLOR, colorBorder: COLOR, colorError: COLOR,
    colorErrorBackground: COLOR, radius: LENGTH, fontSize: LENGTH, fontFamily: FONT
  };

  // The theme's known keys with plain values, as the widget accepts them (it checks again).
  function themeParam(theme) {
    var out = {};
    var count = 0;
    Object.keys(theme || {}).forEach(function (key) {
      var value = theme[key];
      var ok = Object.prototype.hasOwnProperty.call(THEME, key) && typeof value === 'string' &&
        value.length <= 200 && THEME[key].test(value) && value.trim() === value;
      if (!ok) {
        if (window.console) console.warn('Paygate.mount: theme.' + key + ' ignored (unknown key or not a plain value)');
        return;
      }
      out[key] = value;
      count++;
    });
    return count ? JSON.stringify(out) : null;
  }

  function webUrl(value) {
    try {
      var u = new URL(value);
      return u.protocol === 'https:' || u.protocol === 'http:' ? u.toString() : null;
    } catch (e) {
      return null;
    }
  }

  function resolve(target) {
    var el = typeof target === 'string' ? document.querySelector(target) : target;
    if (!el || !el.appendChild) throw new Error('Paygate.mount: no element ' + target);
    return el;
  }

  function mount(target, options) {
    options = options || {};
    if (!SESSION.test(options.session || '')) throw new Error('Paygate.mount: options.session must be a cs_... id');
    var host = resolve(target);
    var frame = document.createElement('iframe');
    var url = new URL('/checkout/' + options.session, ORIGIN);
    url.searchParams.set('embed', '1');
    url.searchParams.set('parent_origin', location.origin);
    var theme = themeParam(options.theme);
    if (theme) url.searchParams.set('theme', theme);
    frame.src = url.toString();
    frame.title = options.title || 'Checkout';
    // Payment Request and PayPal's popups need these; the frame is not sandboxed on purpose
    // (PayPal opens windows), its content is paygate's own page.
    frame.setAttribute('allow', 'payment');
    frame.setAttribute('scrolling', 'no');
    frame.style.border = '0';
    frame.style.width = '100%';
    frame.style.minHeight = '320px';
    frame.style.display = 'block';
    host.appendChild(frame);

    function call(name, detail) {
      var fn = options[name];
      if (typeof fn === 'function') {
        try { fn(detail); } catch (e) { setTimeout(function () { throw e; }); }
      }
    }

    function onMessage(event) {
      if (event.origin !== ORIGIN || event.source !== frame.contentWindow) return;
      var data = event.data || {};
      if (typeof data.type !== 'string' || data.session !== options.session && data.type !== 'paygate:resize') return;
      switch (data.type) {
        case 'paygate:resize':
          // Grows while a 3-D Secure challenge is open so it is not clipped.
          if (typeof data.height === 'number' && data.height > 0 && data.height < 10000) {
            frame.style.height = Math.ceil(data.height) + 'px';
          }
          break;
        case 'paygate:success': call('onSuccess', { session: data.session, payment: data.payment }); break;
        case 'paygate:cancel': {
          // The customer chose "Cancel and return": the merchant decides, else the cancel_url.
          var back = webUrl(data.url);
          if (typeof options.onCancel === 'function') call('onCancel', { session: data.session, url: back });
          else if (back) window.location.assign(back);
          break;
        }
        case 'paygate:error': call('onError', { session: data.session, code: data.code }); break;
      }
    }
    window.addEventListener('message', onMessage);

    return {
      frame: frame,
      unmount: function () {
        window.removeEventListener('message', onMessage);
        if (frame.parentNode) frame.parentNode.removeChild(frame);
      },
    };
  }

  window.Paygate = { mount: mount, origin: ORIGIN };
})();
