#!/usr/bin/env bash
# 3. A paid remote session: sales define the service, an engineer publishes hours, the customer finds a
#    slot, holds it, pays (locally, through the Stripe stand-in `make run` starts), prepares access,
#    gets the invite; then reschedule, a partial refund, cancellation with the policy's refund.
#    Runs after 1-first-steps.sh and 2-basic-support.sh.
. walkthroughs/lib.sh
SALES=$(token "$SALES_EMAIL" a-long-staff-password)
ENGINEER=$(token "$ENGINEER_EMAIL" a-long-staff-password)
LEAD=$(token "$LEAD_EMAIL" a-long-staff-password)
CUSTOMER=$(token "$CONTACT_EMAIL" another-long-password)   # any user of the customer company may book
ENGINEER_ID=$(call $B/v1/me -H "Authorization: Bearer $ENGINEER" | field id)

# sales define the service (the default precondition checklist applies unless one is given)
SERVICE=$(call $B/v1/services -H "Authorization: Bearer $SALES" -H 'content-type: application/json' \
  -d '{"name":"Remote session","duration_minutes":60,"price_minor":500000,"currency":"RUB","buffer_after_minutes":15}' \
  | field id)

# the engineer publishes working hours (weekday 0 is Monday) and imports busy time (a file, or ?url= from
# an allowed public host); the production calendar of walkthrough 2 takes holidays out as well
call -X PUT $B/v1/engineers/$ENGINEER_ID/working-hours -H "Authorization: Bearer $ENGINEER" \
  -H 'content-type: application/json' \
  -d '{"time_zone":"Europe/Moscow","weekly_hours":{"0":[["09:00","18:00"]],"1":[["09:00","18:00"]],"2":[["09:00","18:00"]],"3":[["09:00","18:00"]],"4":[["09:00","18:00"]]},"skills":["sql"]}'
call "$B/v1/engineers/$ENGINEER_ID/busy-calendars?name=outlook" -H "Authorization: Bearer $ENGINEER" \
  -H 'content-type: text/calendar' --data-binary @$SAMPLES/outlook.ics

# the customer looks for free start times in their own zone, a week from now
FROM=$(date -u -d '+7 days' +%Y-%m-%dT00:00:00Z) TO=$(date -u -d '+14 days' +%Y-%m-%dT00:00:00Z)
SLOTS=$(call "$B/v1/availability?service_id=$SERVICE&from=$FROM&to=$TO&tz=Europe/Moscow" \
  -H "Authorization: Bearer $CUSTOMER")
STARTS=$(echo "$SLOTS" | field slots.0.starts_at)
LATER=$(echo "$SLOTS" | field slots.6.starts_at)
OTHER=$(echo "$SLOTS" | field slots.12.starts_at)

# hold the first one: 15 minutes, pending payment; the answer carries what Stripe.js needs to take the money
# (a portal makes one Idempotency-Key per attempt and sends it again on a retry: the retry gets this answer)
KEY=$(python3 -c 'import uuid; print(uuid.uuid4())')
HOLD=$(call $B/v1/bookings -H "Authorization: Bearer $CUSTOMER" -H 'content-type: application/json' \
  -H "Idempotency-Key: $KEY" \
  -d "{\"service_id\":\"$SERVICE\",\"starts_at\":\"$STARTS\",\"time_zone\":\"Europe/Moscow\"}")
echo "$HOLD"   # -> "status":"pending_payment","payment":{"payment_intent_id":"pi_...","client_secret":"pi_..._secret_...",...}
BOOKING=$(echo "$HOLD" | field id)
# the same slot again answers 409 slot_taken with next_free_slots; the database never double-books
curl -s $B/v1/bookings -H "Authorization: Bearer $CUSTOMER" -H 'content-type: application/json' \
  -d "{\"service_id\":\"$SERVICE\",\"starts_at\":\"$STARTS\"}"; echo
# a portal that reloads reads the payment (status, amount, client secret) back from the booking
call $B/v1/bookings/$BOOKING -H "Authorization: Bearer $CUSTOMER"

# pay: in a browser, stripe.confirmCardPayment(client_secret); here the stand-in is paid with a test card,
# Stripe's signed webhook reaches /v1/billing/stripe/webhook, and only that confirms the booking
.venv/bin/deskline billing pay --booking $BOOKING   # -> "status": "confirmed"
call $B/v1/bookings/$BOOKING -H "Authorization: Bearer $CUSTOMER"   # -> "status":"confirmed","payment":{"status":"succeeded",...}

# access preconditions: validated against the checklist; the secret is encrypted and shown masked
call -X PUT $B/v1/bookings/$BOOKING/preconditions -H "Authorization: Bearer $CUSTOMER" \
  -H 'content-type: application/json' -d '{"values":{"remote_tool":"AnyDesk","remote_address":"123 456 789",
  "access_secret":"s3cret-one-time-password","admin_present":"Ivan, +7 900 000-00-00","backup_done":true}}'
call $B/v1/bookings/$BOOKING -H "Authorization: Bearer $CUSTOMER" | field status   # -> ready
# only the assigned engineer, from one hour before the session to its end (audited); now it is too early
# (403 with reveal_from and reveal_until):
curl -s -X POST $B/v1/bookings/$BOOKING/preconditions/reveal -H "Authorization: Bearer $ENGINEER"; echo

# the invite, and a personal calendar feed (engineer: their sessions; customer: the organisation's)
call $B/v1/bookings/$BOOKING/invite.ics -H "Authorization: Bearer $CUSTOMER" | grep -E '^(SUMMARY|DTSTART;)'
FEED=$(call -X POST $B/v1/calendar-feeds -H "Authorization: Bearer $CUSTOMER" | field url)
curl -sS --fail-with-body "$B/v1/calendar-feeds/${FEED##*/}" | grep -c BEGIN:VEVENT   # calendar apps poll this URL

# reschedule to another free slot (the payment moves with it)
call -X POST $B/v1/bookings/$BOOKING/reschedule -H "Authorization: Bearer $CUSTOMER" \
  -H 'content-type: application/json' -d "{\"starts_at\":\"$LATER\"}"

# payments with their refunds (customers: their organisation's; staff: all); staff refund part of one
PAYMENT=$(call "$B/v1/payments?booking_id=$BOOKING" -H "Authorization: Bearer $CUSTOMER" | field items.0.id)
call $B/v1/payments/$PAYMENT/refunds -H "Authorization: Bearer $LEAD" \
  -H 'content-type: application/json' -d '{"amount_minor":200000,"reason":"Session ran short"}'

# cancelling applies the service's policy: early (or by staff) the rest is refunded, late nothing;
# a portal asks what cancelling now would refund before the customer confirms
call $B/v1/bookings/$BOOKING/cancellation -H "Authorization: Bearer $CUSTOMER"   # -> "refund":"full","full_refund_until":...
call -X POST $B/v1/bookings/$BOOKING/cancel -H "Authorization: Bearer $CUSTOMER"
call "$B/v1/payments?booking_id=$BOOKING" -H "Authorization: Bearer $CUSTOMER"   # -> "status":"refunded", two refunds
.venv/bin/deskline billing reconcile   # our payments against Stripe's PaymentIntents: no differences

# support may propose a free session for a ticket whose evidence cannot be supplied (no payment)
call $B/v1/support/tickets/$TICKET/remote-sessions -H "Authorization: Bearer $LEAD" \
  -H 'content-type: application/json' -d "{\"service_id\":\"$SERVICE\",\"starts_at\":\"$OTHER\"}"

keep SERVICE ENGINEER_ID BOOKING PAYMENT
