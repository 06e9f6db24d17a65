// The local Stripe stand-in's Stripe.js (development only): a card element with labelled fields and
// confirmCardPayment(clientSecret, {payment_method: {card}}), as the real Stripe.js offers them.
// Test cards: 4242 4242 4242 4242 pays; 4000 0000 0000 0002 is declined. Any future expiry, any CVC.
(function () {
  "use strict";
  const base = document.currentScript.src.replace(/\/js\.stripe\.com\/v3\/.*$/, "");
  const LABELS = {
    en: { number: "Card number", expiry: "Expiry (MM/YY)", cvc: "CVC" },
    ru: { number: "Номер карты", expiry: "Срок (ММ/ГГ)", cvc: "CVC" },
  };

  class CardElement {
    constructor(locale) {
      this.labels = LABELS[locale] || LABELS.en;
      this.inputs = {};
      this.listeners = {};
      this.root = null;
    }
    mount(target) {
      const host = typeof target === "string" ? document.querySelector(target) : target;
      this.root = document.createElement("div");
      this.root.className = "stripe-stand-in-card";
      const fields = [
        ["number", "cc-number", "4242 4242 4242 4242"],
        ["expiry", "cc-exp", "12/34"],
        ["cvc", "cc-csc", "123"],
      ];
      for (const [name, autocomplete, placeholder] of fields) {
        const label = document.createElement("label");
        const id = "stripe-card-" + name;
        label.htmlFor = id;
        label.textContent = this.labels[name];
        const input = document.createElement("input");
        input.id = id;
        input.name = name;
        input.autocomplete = autocomplete;
        input.inputMode = "numeric";
        input.placeholder = placeholder;
        input.addEventListener("input", () => (this.listeners.change || []).forEach((f) => f({ complete: this.complete() })));
        this.inputs[name] = input;
        label.appendChild(input);
        this.root.appendChild(label);
      }
      host.appendChild(this.root);
    }
    unmount() {
      if (this.root) this.root.remove();
      this.root = null;
    }
    destroy() {
      this.unmount();
    }
    on(event, handler) {
      (this.listeners[event] = this.listeners[event] || []).push(handler);
    }
    focus() {
      if (this.inputs.number) this.inputs.number.focus();
    }
    complete() {
      return Object.values(this.inputs).every((input) => input.value.trim() !== "");
    }
    value() {
      return {
        number: this.inputs.number.value,
        expiry: this.inputs.expiry.value,
        cvc: this.inputs.cvc.value,
      };
    }
  }

  window.Stripe = function (key, options) {
    const locale = (options && options.locale) || "en";
    return {
      elements() {
        return {
          create(type) {
            if (type !== "card") throw new Error("The stand-in offers the card element only");
            return new CardElement(locale);
          },
        };
      },
      async confirmCardPayment(clientSecret, data) {
        const card = data && data.payment_method && data.payment_method.card;
        const intent = clientSecret.split("_secret_")[0];
        try {
          const response = await fetch(base + "/_deskline/payment_intents/" + intent + "/confirm_card", {
            method: "POST",
            body: JSON.stringify({ key: key, client_secret: clientSecret, card: card.value() }),
          });
          const body = await response.json();
          return response.ok ? body : { error: body.error };
        } catch (err) {
          return { error: { message: String(err), code: "network" } };
        }
      },
    };
  };
})();
