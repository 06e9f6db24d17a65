#!/usr/bin/env bash
# 4. An SLA contract: sales draft it for the customer company, activate it once complete, amend it from
#    a later day (history kept); a covered user files an SLA ticket with a priority, support answers it.
#    A session booked under the contract uses its included minutes; the month that ended is invoiced.
#    Runs after walkthroughs 1 to 3.
. walkthroughs/lib.sh
SALES=$(token "$SALES_EMAIL" a-long-staff-password)
ENGINEER=$(token "$ENGINEER_EMAIL" a-long-staff-password)
CUSTOMER=$(token "$CONTACT_EMAIL" another-long-password)
START=$(date -d "$(date +%Y-%m-01) -1 month" +%F)   # in force since the first day of last month, for a year
END=$(date -d "$START +1 year -1 day" +%F)
AMENDED_FROM=$(date -d "$(date +%Y-%m-01) +1 month" +%F)   # the first day of next month

# a draft may be incomplete: here everything but the signing date (the terms are a sample file)
CONTRACT=$(call $B/v1/contracts -H "Authorization: Bearer $SALES" -H 'content-type: application/json' \
  -d "{\"organization_id\":\"$ORG\",\"number\":\"SLA-$RUN\",\"starts_on\":\"$START\",\"ends_on\":\"$END\",
       \"terms\":$(cat $SAMPLES/sla-terms.json)}" | field id)
# activating an incomplete draft answers 422 contract_incomplete, listing every missing field
curl -s -X POST $B/v1/contracts/$CONTRACT/activate -H "Authorization: Bearer $SALES"; echo
# drafts are edited with the ETag they were read with (412 if someone changed them since)
REVISION=$(call $B/v1/contracts/$CONTRACT -H "Authorization: Bearer $SALES" | field revision)
call -X PATCH $B/v1/contracts/$CONTRACT -H "Authorization: Bearer $SALES" -H "If-Match: \"$REVISION\"" \
  -H 'content-type: application/json' -d "{\"signed_on\":\"$(date +%F)\"}"
call -X POST $B/v1/contracts/$CONTRACT/activate -H "Authorization: Bearer $SALES" | field status   # -> active

# an active contract is not edited (409 contract_not_draft points at amendments): it is amended from a day
curl -s -X PATCH $B/v1/contracts/$CONTRACT -H "Authorization: Bearer $SALES" -H 'content-type: application/json' \
  -d '{"terms":{"included_session_minutes":480}}'; echo
call $B/v1/contracts/$CONTRACT/amendments -H "Authorization: Bearer $SALES" -H 'content-type: application/json' \
  -d "{\"effective_from\":\"$AMENDED_FROM\",\"reason\":\"Eight included hours a month\",
       \"terms\":{\"included_session_minutes\":480}}" | field versions.1.effective_from   # version 1 stays in the history

# the customer's users read their contracts (never drafts); integrations with the contracts:read scope too
call $B/v1/contracts -H "Authorization: Bearer $CUSTOMER"

# a covered user files an SLA ticket with a priority: three timers on the contract's calendar
SLA_TICKET=$(call $B/v1/contracts/$CONTRACT/tickets -H "Authorization: Bearer $CUSTOMER" \
  -H 'content-type: application/json' \
  -d '{"priority":"P2","subject":"Orders do not reach the terminals","description":"Since 9:00 no order arrives."}' \
  | field id)
call $B/v1/contracts/$CONTRACT/tickets/$SLA_TICKET -H "Authorization: Bearer $CUSTOMER" | field clock
# support's first public reply stops the first-response timer; a customer message then starts the update timer
call $B/v1/contracts/$CONTRACT/tickets/$SLA_TICKET/messages -H "Authorization: Bearer $ENGINEER" \
  -H 'content-type: application/json' -d '{"body":"We are on it: the exchange service is restarting."}'
# staff may change the priority: the running targets restart from then (on the timeline)
call $B/v1/contracts/$CONTRACT/tickets/$SLA_TICKET/priority -H "Authorization: Bearer $ENGINEER" \
  -H 'content-type: application/json' -d '{"priority":"P1","reason":"All warehouses are affected"}' | field clock.priority

# a remote session under the contract: confirmed at once while the month's included minutes last
# (beyond them it waits for an overage payment, or is refused: 409 included_hours_exhausted)
FROM=$(date -u -d '+7 days' +%Y-%m-%dT00:00:00Z) TO=$(date -u -d '+14 days' +%Y-%m-%dT00:00:00Z)
STARTS=$(call "$B/v1/availability?service_id=$SERVICE&from=$FROM&to=$TO&tz=Europe/Moscow" \
  -H "Authorization: Bearer $CUSTOMER" | field slots.0.starts_at)
call $B/v1/bookings -H "Authorization: Bearer $CUSTOMER" -H 'content-type: application/json' \
  -d "{\"service_id\":\"$SERVICE\",\"starts_at\":\"$STARTS\",\"funding\":\"contract\"}" | field status   # -> confirmed

# the month that ended is invoiced (an admin's job, or `POST /v1/invoices`): the fee less the service
# credits, recorded in Deskline, then issued through Stripe (here the stand-in): created, given its
# lines, finalised and sent; running it again finds the same invoices
LAST_MONTH=$(date -d "$(date +%Y-%m-01) -1 month" +%Y-%m)
.venv/bin/deskline billing invoice --period "$LAST_MONTH" | grep -c '"status": "issued"'
call "$B/v1/invoices?period=$LAST_MONTH" -H "Authorization: Bearer $CUSTOMER" | field items.0.status   # -> issued

keep CONTRACT SLA_TICKET
