/**
 * Two checks against Stripe's published types (`@stripe/stripe-js`, pinned in package.json):
 *
 * 1. `widgetCalls` makes exactly the Stripe.js calls paygate's widget makes, typed by the real
 *    API: a renamed method or a mis-shaped argument or result fails to compile.
 * 2. `standInCalls` makes the same calls on the stand-in as `stand-in.d.ts` declares it: the
 *    stand-in must accept the real-typed arguments, and whatever it resolves or emits must be
 *    assignable to the real result and event types.
 *
 * Run: scripts/check-stripe-js.sh (npm ci, then tsc --noEmit -p this folder).
 */
import type {
  Appearance,
  PaymentIntentResult,
  SetupIntentResult,
  Stripe,
  StripeConstructor,
  StripeElements,
  StripeError,
  StripePaymentElement,
  StripePaymentElementChangeEvent,
} from '@stripe/stripe-js';
import type {
  StandInElements,
  StandInPaymentElement,
  StandInStripe,
  StandInStripeFactory,
} from './stand-in';

/** What the widget passes: the client secret, its theme, and the mount point. */
interface WidgetInput {
  publishableKey: string;
  clientSecret: string;
  appearance: Appearance;
  mountPoint: HTMLElement;
  returnUrl: string;
  /** A saved card (`pm_...`): paid with in the widget, and confirmed on the page where a
   *  customer authenticates an off-session charge. */
  savedPaymentMethod: string;
}

type SubmitResult = Awaited<ReturnType<StripeElements['submit']>>;

// ---- 1. The widget's calls, on the real API -------------------------------------------------

export async function widgetCalls(StripeFn: StripeConstructor, input: WidgetInput): Promise<string> {
  const stripe: Stripe = StripeFn(input.publishableKey);
  const elements: StripeElements = stripe.elements({
    clientSecret: input.clientSecret,
    appearance: input.appearance,
  });
  const payment: StripePaymentElement = elements.create('payment', {layout: 'tabs'});
  payment.on('change', (event: StripePaymentElementChangeEvent) => {
    const complete: boolean = event.complete;
    const empty: boolean = event.empty;
    const kind: string = event.value.type;
    return [complete, empty, kind];
  });
  payment.on('ready', (event: {elementType: 'payment'}) => event.elementType);
  payment.on('focus', (event: {elementType: 'payment'}) => event.elementType);
  payment.on('blur', (event: {elementType: 'payment'}) => event.elementType);
  payment.mount(input.mountPoint);
  payment.update({readOnly: true});
  await elements.update({appearance: input.appearance});

  const submitted: SubmitResult = await elements.submit();
  if (submitted.error) return submitted.error.message ?? '';

  const confirmed: PaymentIntentResult = await stripe.confirmPayment({
    elements,
    confirmParams: {return_url: input.returnUrl},
    redirect: 'if_required',
  });
  if (confirmed.error) {
    const error: StripeError = confirmed.error;
    return [error.type, error.code, error.decline_code, error.message, error.payment_intent?.id].join(' ');
  }
  const status: string = confirmed.paymentIntent.status;

  const withSaved: PaymentIntentResult = await stripe.confirmCardPayment(input.clientSecret, {
    payment_method: input.savedPaymentMethod,
  });
  if (withSaved.error) return withSaved.error.message ?? '';

  // A session that only saves a card: the Elements group holds a SetupIntent's secret.
  const saved: SetupIntentResult = await stripe.confirmSetup({elements, redirect: 'if_required'});
  if (saved.error) {
    return [saved.error.type, saved.error.code, saved.error.setup_intent?.id].join(' ');
  }
  const setupStatus: string = saved.setupIntent.status;
  void setupStatus;

  const retrieved: PaymentIntentResult = await stripe.retrievePaymentIntent(input.clientSecret);
  if (retrieved.paymentIntent) {
    const next = retrieved.paymentIntent.next_action;
    const id: string = retrieved.paymentIntent.id;
    void next;
    void id;
  }
  payment.unmount();
  payment.destroy();
  return status;
}

// ---- 2. The same calls, on the stand-in's declared shape ---------------------------------------

declare const StandIn: typeof StandInStripeFactory;

export async function standInCalls(input: WidgetInput): Promise<string> {
  const stripe: StandInStripe = StandIn(input.publishableKey);
  // Options typed by the real API must be accepted by the stand-in.
  const elementsOptions: {clientSecret: string; appearance: Appearance} = {
    clientSecret: input.clientSecret,
    appearance: input.appearance,
  };
  const elements: StandInElements = stripe.elements(elementsOptions);
  const payment: StandInPaymentElement = elements.create('payment', {layout: 'tabs'});
  // Events the stand-in emits must be the real events.
  payment.on('change', (event) => {
    const real: StripePaymentElementChangeEvent = event;
    return real;
  });
  payment.on('ready', (event) => {
    const real: Parameters<Parameters<StripePaymentElement['on']>[1]>[0] | {elementType: 'payment'} = event;
    return real;
  });
  payment.mount(input.mountPoint);
  payment.mount('#payment-element');
  payment.update({readOnly: true});
  await elements.update({appearance: input.appearance});

  // Results the stand-in resolves must be the real results.
  const submitted: SubmitResult = await elements.submit();
  if (submitted.error) return submitted.error.message ?? '';
  const confirmed: PaymentIntentResult = await stripe.confirmPayment({
    elements,
    confirmParams: {return_url: input.returnUrl},
    redirect: 'if_required',
  });
  const redirected: {error: StripeError} = await stripe.confirmPayment({
    elements,
    confirmParams: {return_url: input.returnUrl},
  });
  const retrieved: PaymentIntentResult = await stripe.retrievePaymentIntent(input.clientSecret);
  // The data the real API takes for a saved card must be accepted by the stand-in.
  const savedCard: Parameters<Stripe['confirmCardPayment']>[1] & {payment_method: string} = {
    payment_method: input.savedPaymentMethod,
  };
  const withSaved: PaymentIntentResult = await stripe.confirmCardPayment(input.clientSecret, savedCard);
  const setUp: SetupIntentResult = await stripe.confirmSetup({elements, redirect: 'if_required'});
  const setUpRead: SetupIntentResult = await stripe.retrieveSetupIntent(input.clientSecret);
  void setUp;
  void setUpRead;
  payment.unmount();
  payment.destroy();
  return [confirmed.paymentIntent?.status, redirected.error.type, retrieved.paymentIntent?.id, withSaved.paymentIntent?.id].join(' ');
}

// Whole-member checks where Stripe's declarations are not overloaded.
declare const standIn: StandInStripe;
export const retrieveMatches: Pick<Stripe, 'retrievePaymentIntent' | 'retrieveSetupIntent'> = standIn;
declare const standInElements: StandInElements;
export const submitMatches: Pick<StripeElements, 'submit' | 'fetchUpdates'> = standInElements;
declare const standInElement: StandInPaymentElement;
export const lifecycleMatches: Pick<StripePaymentElement, 'mount' | 'unmount' | 'destroy'> = standInElement;
