#!/usr/bin/env bash
# 2. Basic support: the designated contact files a complete ticket, support answers, e-mail continues it.
#    Runs after 1-first-steps.sh (it reads what that one kept in var/walkthrough.env).
. walkthroughs/lib.sh

# the regulation is public: business hours, first-response target, the evidence every ticket needs
call $B/v1/support/regulation
CONTACT=$(token "$CONTACT_EMAIL" another-long-password)
ENGINEER=$(token "$ENGINEER_EMAIL" a-long-staff-password)
LEAD=$(token "$LEAD_EMAIL" a-long-staff-password)

# the lead publishes a knowledge-base article (tickets suggest it, replies cite it; slugs are unique,
# so on a second run this one answers 409 conflict and the walkthrough goes on)
curl -s $B/v1/kb/articles -H "Authorization: Bearer $LEAD" -H 'content-type: application/json' -d '{
    "slug": "sync-fails-code-17", "title": "Synchronisation fails with code 17 after an update",
    "body": "Code 17 means the exchange directory moved. Point the terminals at the new directory.",
    "tags": ["synchronisation", "mobile-server"], "published": true}'; echo

# file the ticket (Idempotency-Key makes a retry safe: same key + same body -> the same ticket)
TICKET_JSON=$(call $B/v1/support/tickets -H "Authorization: Bearer $CONTACT" \
  -H 'content-type: application/json' -H "Idempotency-Key: portal-$RUN-1" -d '{
    "project_name": "Warehouse terminals",
    "description": "Terminals stop synchronising after the update",
    "affected_applications": "Mobile Server, Warehouse app 3.2",
    "steps_to_reproduce": "Update the server, start a terminal, synchronisation fails with code 17",
    "impact": "Picking is done on paper",
    "affected_employees": 40,
    "exchange_archive_link": "https://files.example.com/exchange/romashka.zip"}')
TICKET=$(echo "$TICKET_JSON" | field id)
echo "$TICKET_JSON" | field status    # -> awaiting_customer: the device database is missing, no clock yet
echo "$TICKET_JSON" | field missing   # -> ['device_database']

# upload the mobile-device database: the intake is complete and the clock starts
call $B/v1/support/tickets/$TICKET/attachments -H "Authorization: Bearer $CONTACT" \
  -F kind=device_database -F file=@$SAMPLES/devices.db
call $B/v1/support/tickets/$TICKET -H "Authorization: Bearer $CONTACT"
# -> status "new", clock.first_response_due_at in business time, suggested_articles from the knowledge base

# support answers (the first public staff reply is the first response), then asks for more (the clock
# pauses); the contact answers. After the first response the clock shows clock.next_update_due_at: the
# regulation's update interval after the last public staff reply (or the customer's answer, or reopening)
call $B/v1/support/tickets/$TICKET/messages -H "Authorization: Bearer $ENGINEER" \
  -H 'content-type: application/json' -d '{"body":"See the article.","cited_articles":["sync-fails-code-17"]}'
call $B/v1/support/tickets/$TICKET/transitions -H "Authorization: Bearer $ENGINEER" \
  -H 'content-type: application/json' -d '{"to":"awaiting_customer","message":"Send the server log, please."}'
call $B/v1/support/tickets/$TICKET/messages -H "Authorization: Bearer $CONTACT" \
  -H 'content-type: application/json' -d '{"body":"The log shows the old exchange directory path."}'

# the contact may ask why only once the first-response deadline passed unanswered: before, a 409 says so
curl -s $B/v1/support/tickets/$TICKET/explanation-requests -H "Authorization: Bearer $CONTACT" \
  -H 'content-type: application/json' -d '{"reason":"No answer for two days"}'; echo

# an item that cannot be provided is declared with a reason (If-Match: the ticket's current revision, its ETag)
SECOND=$(call $B/v1/support/tickets -H "Authorization: Bearer $CONTACT" -H 'content-type: application/json' -d '{
    "project_name": "Head office", "description": "Reports are empty since Monday",
    "affected_applications": "Mobile Server", "steps_to_reproduce": "Open any report",
    "impact": "No daily reports", "affected_employees": 5,
    "exchange_archive_link": "https://files.example.com/exchange/head-office.zip"}' | field id)
REVISION=$(call $B/v1/support/tickets/$SECOND -H "Authorization: Bearer $CONTACT" | field revision)
call -X PATCH $B/v1/support/tickets/$SECOND -H "Authorization: Bearer $CONTACT" \
  -H 'content-type: application/json' -H "If-Match: \"$REVISION\"" \
  -d '{"unavailable_items": {"device_database": "The server disk died; no copy exists."}}'

# a mail gateway forwards e-mail with an integration token (scope support:inbound-email); a subject
# quoting the ticket's number (DL-<number>) adds a message to it, other mail from the contact opens a ticket
NUMBER=$(call $B/v1/support/tickets/$TICKET -H "Authorization: Bearer $CONTACT" | field number)
GATEWAY=$(call -u "$CLIENT_ID:$CLIENT_SECRET" $B/v1/oauth/token -d grant_type=client_credentials | field access_token)
printf 'From: Irina Ivanova <%s>\r\nTo: support@deskline.example\r\nSubject: Re: [%s] Terminals stop synchronising\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe terminals synchronise again after moving the directory. Thank you!\r\n' \
  "$CONTACT_EMAIL" "$NUMBER" | call $B/v1/support/inbound-email -H "Authorization: Bearer $GATEWAY" \
  -H 'content-type: message/rfc822' --data-binary @-

# public statistics and knowledge-base search
call "$B/v1/support/stats?from=$(date +%Y)-01&to=$(date +%Y)-12"
call "$B/v1/kb/articles?q=synchronisation"

# holidays (a national production calendar) move every deadline and every engineer's free time
call $B/v1/calendars/holidays -H "Authorization: Bearer $LEAD" \
  -H 'content-type: text/calendar' --data-binary @$SAMPLES/production-calendar.ics
call "$B/v1/calendars/holidays?year=2027"

keep TICKET
