#!/usr/bin/env bash
# 1. First steps: the first admin and the vendor's staff, a customer company with its purchases and
#    its designated support contact, an integration client. Needs a served API (`make run`).
. walkthroughs/lib.sh
rm -f "$STATE"
RUN=$(date +%s)   # each run makes its own people and company: the walkthroughs repeat on one database

# the first admin, and the vendor's staff: users of the vendor are made with the CLI
echo 'a-long-admin-password' | .venv/bin/deskline users create --email "admin-$RUN@example.com" --role admin --password-stdin
ADMIN_EMAIL="admin-$RUN@example.com"
for role in support_engineer support_lead sales; do
  echo 'a-long-staff-password' | .venv/bin/deskline users create --email "$role-$RUN@example.com" --role $role --password-stdin
done
ENGINEER_EMAIL="support_engineer-$RUN@example.com" LEAD_EMAIL="support_lead-$RUN@example.com" SALES_EMAIL="sales-$RUN@example.com"

# log in: an access token (15 minutes) and a rotating refresh token
LOGIN=$(call $B/v1/auth/login -H 'content-type: application/json' \
  -d "{\"email\":\"$ADMIN_EMAIL\",\"password\":\"a-long-admin-password\"}")
ADMIN=$(echo "$LOGIN" | field access_token)
REFRESH=$(echo "$LOGIN" | field refresh_token)
call $B/v1/me -H "Authorization: Bearer $ADMIN"

# a customer organisation, its purchase (eligibility for free support) and its designated support contact
ORG=$(call $B/v1/organizations -H "Authorization: Bearer $ADMIN" -H 'content-type: application/json' \
  -d "{\"name\":\"Romashka LLC (walkthrough $RUN)\"}" | field id)
call $B/v1/organizations/$ORG/purchases -H "Authorization: Bearer $ADMIN" -H 'content-type: application/json' \
  -d "{\"product\":\"Mobile Server\",\"purchased_on\":\"2019-03-14\",\"channel\":\"partner\",\"partner_name\":\"SoftPartner (closed)\",\"reference\":\"SP-42-$RUN\"}"
# bulk import, all or nothing (references are unique: each run stamps its own into the sample)
sed "s/RUN/$RUN/" $SAMPLES/purchases.csv | call --data-binary @- $B/v1/organizations/$ORG/purchases/import \
  -H "Authorization: Bearer $ADMIN" -H 'content-type: text/csv'
CONTACT_EMAIL="it-$RUN@romashka.example"
CONTACT_ID=$(call $B/v1/organizations/$ORG/users -H "Authorization: Bearer $ADMIN" -H 'content-type: application/json' \
  -d "{\"email\":\"$CONTACT_EMAIL\",\"full_name\":\"Irina Ivanova\",\"password\":\"another-long-password\"}" | field id)
call -X PUT $B/v1/organizations/$ORG/support-contact -H "Authorization: Bearer $ADMIN" \
  -H 'content-type: application/json' -d "{\"user_id\":\"$CONTACT_ID\"}"
call $B/v1/organizations/$ORG/eligibility -H "Authorization: Bearer $ADMIN"   # -> "eligible": true

# an integration client (its secret is shown once) and its token by client credentials
CLIENT=$(call $B/v1/integration-clients -H "Authorization: Bearer $ADMIN" -H 'content-type: application/json' \
  -d '{"name":"Mail gateway","scopes":["organizations:read","support:inbound-email"]}')
CLIENT_ID=$(echo "$CLIENT" | field client_id)
CLIENT_SECRET=$(echo "$CLIENT" | field client_secret)
call -u "$CLIENT_ID:$CLIENT_SECRET" $B/v1/oauth/token -d grant_type=client_credentials

# refresh: each refresh token works once; replaying a used one revokes the whole login
call $B/v1/oauth/token -d grant_type=refresh_token -d refresh_token=$REFRESH

keep RUN ADMIN_EMAIL ENGINEER_EMAIL LEAD_EMAIL SALES_EMAIL ORG CONTACT_EMAIL CONTACT_ID CLIENT_ID CLIENT_SECRET
