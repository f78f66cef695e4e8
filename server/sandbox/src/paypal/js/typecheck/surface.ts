/**
 * Two checks against PayPal's published types (`@paypal/paypal-js`, pinned in package.json):
 *
 * 1. `widgetCalls` makes exactly the PayPal JS SDK calls paygate's widget makes, typed by the
 *    real API: a renamed method or a mis-shaped argument or result fails to compile.
 * 2. `standInCalls` makes the same calls on the stand-in as `stand-in.d.ts` declares it: the
 *    stand-in must accept the real-typed options, and whatever it passes to the callbacks or
 *    resolves (the approval data, the actions the widget uses, the order from
 *    `actions.order.get()`) must be assignable to the real types.
 *
 * Run: scripts/check-paypal-js.sh (npm ci, then tsc --noEmit -p this folder).
 */
import type {
  CreateOrderData,
  OnApproveActions,
  OnApproveData,
  OnClickActions,
  OnInitActions,
  OrderResponseBody,
  PayPalButtonsComponent,
  PayPalButtonsComponentOptions,
  PayPalButtonStyle,
  PayPalNamespace,
} from '@paypal/paypal-js';
import type {
  StandInButtons,
  StandInNamespace,
  StandInOrder,
} from './stand-in';

/** What the widget has: a container, a style, and its server calls. */
interface WidgetInput {
  container: HTMLElement;
  style: PayPalButtonStyle;
  /** POST /checkout/api/sessions/{id}/paypal/orders → the order id. */
  createOrderOnServer(): Promise<string>;
  /** POST .../orders/{order_id}/capture → whether the buyer must pick another source. */
  captureOnServer(orderID: string): Promise<'done' | 'instrument_declined'>;
  show(message: string): void;
}

// ---- 1. The widget's calls, on the real API -------------------------------------------------

export async function widgetCalls(paypal: PayPalNamespace, input: WidgetInput): Promise<void> {
  if (!paypal.Buttons) throw new Error('components=buttons is missing');
  const options: PayPalButtonsComponentOptions = {
    style: input.style,
    onClick: (data: Record<string, unknown>, actions: OnClickActions) => actions.resolve(),
    createOrder: async (data: CreateOrderData) => {
      const source: string = data.paymentSource;
      void source;
      return input.createOrderOnServer();
    },
    onApprove: async (data: OnApproveData, actions: OnApproveActions) => {
      const orderID: string = data.orderID;
      const payer: string | null | undefined = data.payerID;
      void payer;
      if ((await input.captureOnServer(orderID)) === 'instrument_declined') {
        actions.restart();
        return;
      }
      if (actions.order) {
        const order: OrderResponseBody = await actions.order.get();
        input.show(`${order.id} ${order.status}`);
      }
    },
    onCancel: (data: Record<string, unknown>) => input.show(`cancelled ${String(data.orderID)}`),
    onError: (err: Record<string, unknown>) => input.show(String(err.message)),
  };
  const buttons: PayPalButtonsComponent = paypal.Buttons(options);
  if (buttons.isEligible()) {
    await buttons.render(input.container);
    await buttons.render('#paypal-button-container');
  }
  await buttons.close();
}

// ---- 2. The same calls, on the stand-in's declared shape ---------------------------------------

declare const standIn: StandInNamespace;

export async function standInCalls(input: WidgetInput): Promise<void> {
  if (!standIn.Buttons) throw new Error('components=buttons is missing');
  // Options typed by the real API are accepted.
  const style: PayPalButtonStyle = input.style;
  const buttons: StandInButtons = standIn.Buttons({
    style,
    onClick: (data, actions) => {
      const realData: Record<string, unknown> = data;
      const realActions: OnClickActions = actions;
      void realData;
      return realActions.resolve();
    },
    onInit: (data, actions) => {
      const realActions: OnInitActions = actions;
      void realActions;
    },
    createOrder: async (data) => {
      const realData: CreateOrderData = data;
      void realData;
      return input.createOrderOnServer();
    },
    onApprove: async (data, actions) => {
      // What the stand-in passes is what the real SDK passes.
      const realData: OnApproveData = data;
      const restart: OnApproveActions['restart'] = actions.restart;
      const redirect: OnApproveActions['redirect'] = actions.redirect;
      const get: NonNullable<OnApproveActions['order']>['get'] = actions.order.get;
      void redirect;
      void get;
      if ((await input.captureOnServer(realData.orderID)) === 'instrument_declined') {
        restart();
        return;
      }
      const order: OrderResponseBody = await actions.order.get();
      input.show(`${order.id} ${order.status}`);
    },
    onCancel: (data) => {
      const realData: Record<string, unknown> = data;
      input.show(`cancelled ${String(realData.orderID)}`);
    },
    onError: (err) => {
      const realErr: Record<string, unknown> = err;
      input.show(String(realErr.message));
    },
  });
  if (buttons.isEligible()) {
    await buttons.render(input.container);
    await buttons.render('#paypal-button-container');
  }
  await buttons.close();
}

// Whole-member checks where PayPal's declarations fit the stand-in's.
declare const standInButtons: StandInButtons;
export const lifecycleMatches: Pick<
  PayPalButtonsComponent,
  'render' | 'close' | 'isEligible' | 'resume' | 'hasReturned'
> = standInButtons;
export const namespaceMatches: Pick<
  PayPalNamespace,
  'version' | 'FUNDING' | 'getFundingSources' | 'isFundingEligible'
> = standIn;
// The emulator's order is a PayPal order.
declare const emulatorOrder: StandInOrder;
export const orderMatches: OrderResponseBody = emulatorOrder;
