/**
 * The shape of paygate's sandbox Stripe.js stand-in (`../stripe-v3.js`, served at
 * `{public_base}/js/v3/`), declared by hand from what that file implements. `surface.ts`
 * checks it against Stripe's published types, so a renamed method, a missing option or a
 * result of another shape fails `tsc --noEmit`. Keep this file in step with stripe-v3.js.
 */

/** `error.type` values the stand-in (and the emulator behind it) produce. */
export type StandInErrorType =
  | 'api_connection_error'
  | 'api_error'
  | 'card_error'
  | 'idempotency_error'
  | 'invalid_request_error'
  | 'validation_error';

/** A PaymentIntent as the emulator shows it to a publishable-key caller. */
export interface StandInPaymentIntent {
  id: string;
  object: 'payment_intent';
  amount: number;
  canceled_at: number | null;
  cancellation_reason:
    | 'abandoned'
    | 'duplicate'
    | 'fraudulent'
    | 'requested_by_customer'
    | 'void_invoice'
    | null;
  capture_method: 'automatic' | 'manual';
  client_secret: string | null;
  confirmation_method: 'automatic';
  created: number;
  currency: string;
  description: string | null;
  last_payment_error: StandInLastPaymentError | null;
  livemode: boolean;
  next_action: {
    type: 'use_stripe_sdk' | 'redirect_to_url';
    redirect_to_url?: {return_url: string | null; url: string | null};
    use_stripe_sdk?: {type: 'stripe_3ds2_fingerprint'; three_d_secure_2_source: string; directory_server_name: string; server_transaction_id: string; [field: string]: unknown};
  } | null;
  payment_method: string | null;
  payment_method_types: string[];
  receipt_email: string | null;
  setup_future_usage: 'off_session' | 'on_session' | null;
  shipping: null;
  status:
    | 'canceled'
    | 'processing'
    | 'requires_action'
    | 'requires_capture'
    | 'requires_confirmation'
    | 'requires_payment_method'
    | 'succeeded';
}

export interface StandInLastPaymentError {
  type: 'card_error' | 'invalid_request_error';
  charge?: string;
  code?: string;
  decline_code?: string;
  doc_url?: string;
  message?: string;
  param?: string;
}

export interface StandInError {
  type: StandInErrorType;
  code?: string;
  decline_code?: string;
  message?: string;
  param?: string;
  charge?: string;
  doc_url?: string;
  payment_intent?: StandInPaymentIntent;
  setup_intent?: StandInSetupIntent;
}

/** A SetupIntent as the emulator shows it to a publishable-key caller. */
export interface StandInSetupIntent {
  id: string;
  object: 'setup_intent';
  cancellation_reason: 'abandoned' | 'duplicate' | 'requested_by_customer' | null;
  client_secret: string | null;
  created: number;
  description: string | null;
  last_setup_error: StandInLastPaymentError | null;
  livemode: boolean;
  next_action: StandInPaymentIntent['next_action'];
  payment_method: string | null;
  payment_method_types: string[];
  status:
    | 'canceled'
    | 'processing'
    | 'requires_action'
    | 'requires_confirmation'
    | 'requires_payment_method'
    | 'succeeded';
  usage: string;
}

export type StandInSetupIntentResult =
  | {setupIntent: StandInSetupIntent; error?: undefined}
  | {setupIntent?: undefined; error: StandInError};

export type StandInPaymentIntentResult =
  | {paymentIntent: StandInPaymentIntent; error?: undefined}
  | {paymentIntent?: undefined; error: StandInError};

export interface StandInAppearance {
  theme?: 'stripe' | 'night' | 'flat';
  variables?: {
    colorPrimary?: string;
    colorBackground?: string;
    colorText?: string;
    colorDanger?: string;
    borderRadius?: string;
    fontFamily?: string;
    fontSizeBase?: string;
    spacingUnit?: string;
  };
}

export interface StandInChangeEvent {
  elementType: 'payment';
  empty: boolean;
  complete: boolean;
  collapsed: boolean;
  value: {type: string};
}

export interface StandInPaymentElement {
  mount(domElement: string | HTMLElement): void;
  unmount(): void;
  destroy(): void;
  update(options: {readOnly?: boolean}): StandInPaymentElement;
  focus(): StandInPaymentElement;
  blur(): StandInPaymentElement;
  clear(): StandInPaymentElement;
  collapse(): StandInPaymentElement;
  on(eventType: 'change', handler: (event: StandInChangeEvent) => any): StandInPaymentElement;
  on(
    eventType: 'ready' | 'focus' | 'blur',
    handler: (event: {elementType: 'payment'}) => any
  ): StandInPaymentElement;
  once(eventType: 'change', handler: (event: StandInChangeEvent) => any): StandInPaymentElement;
  once(
    eventType: 'ready' | 'focus' | 'blur',
    handler: (event: {elementType: 'payment'}) => any
  ): StandInPaymentElement;
  off(eventType: 'change' | 'ready' | 'focus' | 'blur', handler?: (event: any) => any): StandInPaymentElement;
}

export interface StandInElements {
  create(elementType: 'payment', options?: {layout?: unknown; readOnly?: boolean}): StandInPaymentElement;
  getElement(elementType: 'payment'): StandInPaymentElement | null;
  update(options: {appearance?: StandInAppearance}): Promise<void>;
  submit(): Promise<
    | {error?: StandInError; selectedPaymentMethod?: undefined}
    | {selectedPaymentMethod: string; error?: undefined}
  >;
  fetchUpdates(): Promise<{error?: {message: string; status?: string}}>;
}

export interface StandInStripe {
  elements(options?: {clientSecret?: string; appearance?: StandInAppearance}): StandInElements;
  confirmPayment(options: {
    elements: StandInElements;
    clientSecret?: string;
    confirmParams?: {
      return_url?: string;
      receipt_email?: string;
      payment_method_data?: {billing_details?: unknown};
    };
    redirect: 'if_required';
  }): Promise<StandInPaymentIntentResult>;
  confirmPayment(options: {
    elements: StandInElements;
    clientSecret?: string;
    confirmParams: {return_url: string; receipt_email?: string; payment_method_data?: {billing_details?: unknown}};
    redirect?: 'always';
  }): Promise<never | {error: StandInError}>;
  retrievePaymentIntent(clientSecret: string): Promise<StandInPaymentIntentResult>;
  confirmSetup(options: {
    elements: StandInElements;
    clientSecret?: string;
    confirmParams?: {return_url?: string; payment_method_data?: {billing_details?: unknown}};
    redirect: 'if_required';
  }): Promise<StandInSetupIntentResult>;
  retrieveSetupIntent(clientSecret: string): Promise<StandInSetupIntentResult>;
  /** Only a PaymentMethod id as `payment_method` (paygate pays with saved cards this way). */
  confirmCardPayment(
    clientSecret: string,
    data?: {payment_method?: string; return_url?: string; setup_future_usage?: 'off_session' | 'on_session' | null},
  ): Promise<StandInPaymentIntentResult>;
}

/** `window.Stripe` as the stand-in defines it. */
export declare function StandInStripeFactory(publishableKey: string, options?: unknown): StandInStripe;
