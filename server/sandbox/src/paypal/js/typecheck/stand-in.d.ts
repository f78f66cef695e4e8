/**
 * The shape of paygate's sandbox PayPal JS SDK stand-in (`../paypal-sdk.js`, served at
 * `{public_base}/sdk/js`), declared by hand from what that file implements, and of the order
 * the emulator answers `GET /v2/checkout/orders/{id}` with (what `actions.order.get()`
 * resolves to). `surface.ts` checks both against PayPal's published types, so a renamed
 * method, a missing option, or data of another shape fails `tsc --noEmit`. Keep this file in
 * step with paypal-sdk.js and the emulator's `store.rs`.
 */

export type StandInFundingSource = 'paypal';

export interface StandInMoney {
  currency_code: string;
  value: string;
}

export interface StandInLink {
  href: string;
  rel: string;
  method: 'GET' | 'POST';
}

export interface StandInSellerProtection {
  status: 'ELIGIBLE' | 'NOT_ELIGIBLE';
  dispute_categories?: ('ITEM_NOT_RECEIVED' | 'UNAUTHORIZED_TRANSACTION')[];
}

export interface StandInCapture {
  id: string;
  status: 'COMPLETED' | 'DECLINED' | 'PARTIALLY_REFUNDED' | 'PENDING' | 'REFUNDED';
  status_details?: {reason: 'ECHECK' | 'CHARGEBACK'};
  amount: StandInMoney;
  final_capture: boolean;
  seller_protection: StandInSellerProtection;
  seller_receivable_breakdown?: {
    gross_amount: StandInMoney;
    paypal_fee: StandInMoney;
    net_amount: StandInMoney;
  };
  invoice_id?: string;
  custom_id?: string;
  links: StandInLink[];
  create_time: string;
  update_time: string;
}

export interface StandInAuthorization {
  id: string;
  status: 'CREATED' | 'CAPTURED' | 'DENIED' | 'PARTIALLY_CAPTURED' | 'VOIDED';
  amount: StandInMoney;
  invoice_id?: string;
  custom_id?: string;
  seller_protection: StandInSellerProtection;
  expiration_time: string;
  links: StandInLink[];
  create_time: string;
  update_time: string;
}

export interface StandInName {
  given_name: string;
  surname: string;
}

export interface StandInAddress {
  address_line_1?: string;
  admin_area_2?: string;
  admin_area_1?: string;
  postal_code?: string;
  country_code: string;
}

/** `GET /v2/checkout/orders/{id}` as the emulator answers it. */
export interface StandInOrder {
  id: string;
  intent: 'CAPTURE' | 'AUTHORIZE';
  status: 'CREATED' | 'PAYER_ACTION_REQUIRED' | 'APPROVED' | 'VOIDED' | 'COMPLETED';
  payment_source?: {
    paypal: {
      email_address?: string;
      account_id?: string;
      account_status?: 'VERIFIED';
      name?: StandInName;
      address?: {country_code: string};
    };
  };
  purchase_units: {
    reference_id: string;
    amount: StandInMoney & {
      breakdown?: {
        item_total?: StandInMoney;
        tax_total?: StandInMoney;
        shipping?: StandInMoney;
        handling?: StandInMoney;
        insurance?: StandInMoney;
        shipping_discount?: StandInMoney;
        discount?: StandInMoney;
      };
    };
    payee: {email_address: string; merchant_id: string};
    description?: string;
    custom_id?: string;
    invoice_id?: string;
    soft_descriptor: string;
    items?: {
      name: string;
      quantity: string;
      unit_amount: StandInMoney;
      tax?: StandInMoney;
      sku?: string;
      category?: 'DIGITAL_GOODS' | 'PHYSICAL_GOODS' | 'DONATION';
    }[];
    shipping?: {name?: {full_name?: string}; address?: StandInAddress};
    payments?: {captures?: StandInCapture[]; authorizations?: StandInAuthorization[]};
  }[];
  payer?: {
    name: StandInName;
    email_address: string;
    payer_id: string;
    address: {country_code: string};
  };
  create_time: string;
  update_time: string;
  links: StandInLink[];
}

/** What `onApprove` receives. */
export interface StandInOnApproveData {
  orderID: string;
  payerID: string | null;
  paymentID: null;
  billingToken: null;
  facilitatorAccessToken: string | undefined;
}

export interface StandInOnApproveActions {
  order: {get(): Promise<StandInOrder>};
  restart(): void;
  redirect(url: string): void;
}

export interface StandInOnClickActions {
  resolve(): Promise<void>;
  reject(): Promise<void>;
}

export interface StandInOnInitActions {
  enable(): Promise<void>;
  disable(): Promise<void>;
}

export interface StandInStyle {
  borderRadius?: number;
  color?: 'gold' | 'blue' | 'silver' | 'white' | 'black';
  disableMaxWidth?: boolean;
  height?: number;
  label?: 'paypal' | 'checkout' | 'buynow' | 'pay' | 'installment' | 'subscribe' | 'donate';
  layout?: 'vertical' | 'horizontal';
  shape?: 'rect' | 'pill' | 'sharp';
  tagline?: boolean;
}

/** `paypal.Buttons(options)`. Client-side order creation (`actions.order.create`) and
 *  capture (`actions.order.capture`) are not offered: paygate creates and captures orders on
 *  its server, as PayPal recommends. */
export interface StandInButtonsOptions {
  createOrder?: (data: {paymentSource: StandInFundingSource}, actions: {}) => Promise<string>;
  onApprove?: (data: StandInOnApproveData, actions: StandInOnApproveActions) => Promise<void>;
  onCancel?: (data: {orderID: string}) => void;
  onError?: (err: Error & Record<string, unknown>) => void;
  onClick?: (
    data: {fundingSource: StandInFundingSource},
    actions: StandInOnClickActions
  ) => Promise<void> | void | boolean | Promise<boolean>;
  onInit?: (data: {}, actions: StandInOnInitActions) => void;
  style?: StandInStyle;
  fundingSource?: StandInFundingSource;
}

export interface StandInButtons {
  render(container: HTMLElement | string): Promise<void>;
  isEligible(): boolean;
  close(): Promise<void>;
  updateProps(props: StandInButtonsOptions): Promise<void>;
  resume(): void;
  hasReturned(): boolean;
}

/** `window.paypal` as the stand-in defines it (`Buttons` only with `components=buttons`, the
 *  default). */
export interface StandInNamespace {
  Buttons?: (options?: StandInButtonsOptions) => StandInButtons;
  FUNDING: {PAYPAL: 'paypal'};
  getFundingSources(): StandInFundingSource[];
  isFundingEligible(source: string): boolean;
  version: string;
}
