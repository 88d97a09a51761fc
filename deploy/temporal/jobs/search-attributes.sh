#!/bin/sh
# Compose's writ-search-attributes job, and the native topology's: every key of
# src/model/search-attributes.ts with its type (test/deploy checks both). Creating one that exists
# with the same type is accepted; a different type fails loudly. A namespace just created is
# unknown to the frontend until its namespace cache refreshes (seconds), so wait for it first.
set -eu
: "${TEMPORAL_ADDRESS:?TEMPORAL_ADDRESS must be set}"
: "${TEMPORAL_NAMESPACE:?TEMPORAL_NAMESPACE must be set}"
tries=0
until temporal operator cluster health >/dev/null 2>&1; do
  tries=$((tries + 1)); [ $tries -lt 60 ] || { echo "Temporal at $TEMPORAL_ADDRESS never became healthy" >&2; exit 1; }
  sleep 2
done
tries=0
until temporal operator search-attribute list --namespace "$TEMPORAL_NAMESPACE" >/dev/null 2>&1; do
  tries=$((tries + 1)); [ $tries -lt 60 ] || { echo "namespace $TEMPORAL_NAMESPACE is still unknown to Temporal" >&2; exit 1; }
  sleep 1
done
# In a cluster of several nodes the create may reach a node whose namespace cache has not caught
# up with the one that answered the list ("Namespace ... is not found"): that, and only that, is
# tried again; any other failure (an attribute with another type) stops the job at once.
registered() {
  tries=0
  until out=$("$@" 2>&1); do
    case "$out" in *"is not found"*) ;; *) echo "$out" >&2; exit 1 ;; esac
    tries=$((tries + 1)); [ $tries -lt 60 ] || { echo "$out" >&2; exit 1; }
    sleep 1
  done
  echo "$out"
}
registered temporal operator search-attribute create --namespace "$TEMPORAL_NAMESPACE" --name WritState --type Keyword
registered temporal operator search-attribute create --namespace "$TEMPORAL_NAMESPACE" --name WritCorrelationId --type Keyword
registered temporal operator search-attribute create --namespace "$TEMPORAL_NAMESPACE" --name WritActor --type Keyword
registered temporal operator search-attribute create --namespace "$TEMPORAL_NAMESPACE" --name WritConnector --type Keyword
registered temporal operator search-attribute create --namespace "$TEMPORAL_NAMESPACE" --name WritRisk --type Keyword
registered temporal operator search-attribute create --namespace "$TEMPORAL_NAMESPACE" --name WritMode --type Keyword
