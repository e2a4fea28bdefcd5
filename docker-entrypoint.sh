#!/usr/bin/env bash
# Entrypoint of the Batch reframing image (and of the local runner, which starts it as a
# process with the same environment): POST start, run the pipeline while POSTing its progress,
# then POST complete with the outputs and metrics, or fail with a code and a message.
# The start, complete and fail bodies are built and checked by `contracts.callback_body`, from
# the models the API validates them with (contracts/callbacks.py).
#
# Environment: JOB_ID, INPUT_URI, OUTPUT_PREFIX, OPTIONS (JSON), CALLBACK_URL, CALLBACK_TOKEN;
# MAX_SOURCE_SECONDS (the plan's longest source, from the dispatch spec: a longer one fails
# with source_too_long);
# AWS_BATCH_JOB_ID (set by Batch; local-<pid> otherwise); PYTHON (default python3);
# AWS_ENDPOINT_URL for S3; HEARTBEAT_INTERVAL_SECONDS (default 30: the API fails a running job
# that stays silent for REFRAMER_JOB_HEARTBEAT_TIMEOUT_SECONDS). Exit status: 0 done (or
# another container already runs the job), non-zero when the job failed or could not be
# reported.
#
# A long source renders in steps (batch/reframer/segments.py), one Batch job each, chosen by
# RENDER_STEP: `analyse` (posts start, then the analysis' progress; no complete),
# `segment` (an array child: AWS_BATCH_JOB_ARRAY_INDEX of RENDER_CHILDREN; progress only) and
# `join` (posts complete); unset or `whole` is the one-container render. A failed child or join
# posts fail with segment_failed, except before its last attempt (AWS_BATCH_JOB_ATTEMPT below
# RENDER_ATTEMPTS, the segment job definition's retry attempts): it exits 75 for Batch to run
# it again, and the new attempt renders only the segments not stored yet.
set -uo pipefail

PYTHON="${PYTHON:-python3}"
BATCH_JOB_ID="${AWS_BATCH_JOB_ID:-local-$$}"
# Attempts per callback, and for progress (best effort: it must never hold the job up).
CALLBACK_ATTEMPTS="${CALLBACK_ATTEMPTS:-5}"
PROGRESS_ATTEMPTS=2
# Seconds the pipeline gets to stop after SIGTERM (Batch kills everything 30 s after it).
STOP_GRACE=20
# While a long stage runs, its latest progress is posted again this often, as a heartbeat.
HEARTBEAT_INTERVAL_SECONDS="${HEARTBEAT_INTERVAL_SECONDS:-30}"

log() { printf '%s reframer[%s]: %s\n' "$(date -u +%FT%TZ)" "${JOB_ID:-?}" "$*" >&2; }

for name in JOB_ID INPUT_URI OUTPUT_PREFIX OPTIONS CALLBACK_URL CALLBACK_TOKEN; do
    if [[ -z "${!name:-}" ]]; then
        log "missing environment variable $name"
        exit 2
    fi
done
RENDER_STEP="${RENDER_STEP:-whole}"
step_args=()
case "$RENDER_STEP" in
whole) ;;
analyse) step_args=(--step analyse --children "${RENDER_CHILDREN:-}" --segment-seconds "${SEGMENT_SECONDS:-}") ;;
segment) step_args=(--step segment --children "${RENDER_CHILDREN:-}") ;;
join) step_args=(--step join) ;;
*)
    log "RENDER_STEP must be whole, analyse, segment or join, not '$RENDER_STEP'"
    exit 2
    ;;
esac
# Exit status that asks Batch for another attempt (the segment job definition retries on it).
RETRY_STATUS=75
if [[ ! "$HEARTBEAT_INTERVAL_SECONDS" =~ ^[1-9][0-9]*$ ]]; then
    log "HEARTBEAT_INTERVAL_SECONDS must be a whole number of seconds, not '$HEARTBEAT_INTERVAL_SECONDS'"
    exit 2
fi

workdir="$(mktemp -d "${TMPDIR:-/tmp}/reframer-job.XXXXXX")"
pipeline_pid=""
heartbeat_pid=""
# shellcheck disable=SC2329 # called by cleanup and on_signal
stop_heartbeat() {
    if [[ -n "$heartbeat_pid" ]]; then
        kill -TERM "$heartbeat_pid" 2>/dev/null
        wait "$heartbeat_pid" 2>/dev/null
        heartbeat_pid=""
    fi
}
# shellcheck disable=SC2329 # called by the EXIT trap
cleanup() {
    stop_heartbeat
    rm -rf "$workdir"
}
trap cleanup EXIT

# The token goes to curl in a file, never on a command line other processes can read.
umask 077
printf 'Authorization: Bearer %s\n' "$CALLBACK_TOKEN" >"$workdir/auth-header"

# callback_body COMMAND ARGS...: one callback's JSON, from the contract's models.
callback_body() { "$PYTHON" -m contracts.callback_body "$@"; }

# post ACTION BODY_FILE ATTEMPTS: 0 on a 2xx answer. Connection errors, 429 and 5xx are
# retried with a doubling pause; any other answer is final. The last status is in $http_status.
http_status=""
post() {
    local action=$1 body=$2 attempts=$3 attempt=1 pause=1
    while true; do
        http_status="$(curl --silent --show-error --output /dev/null --write-out '%{http_code}' \
            --connect-timeout 5 --max-time 30 --request POST \
            --header "@$workdir/auth-header" --header 'Content-Type: application/json' \
            --data-binary "@$body" "${CALLBACK_URL%/}/$action")" || http_status="${http_status:-000}"
        case "$http_status" in
        2??) return 0 ;;
        000 | 429 | 5??)
            if ((attempt >= attempts)); then
                log "POST $action gave up after $attempt attempts (last status $http_status)"
                return 1
            fi
            log "POST $action answered $http_status, retrying in ${pause}s"
            sleep "$pause"
            attempt=$((attempt + 1))
            pause=$((pause * 2))
            ;;
        *)
            log "POST $action refused with status $http_status"
            return 1
            ;;
        esac
    done
}

post_json() { # ACTION JSON ATTEMPTS
    local file
    file="$(mktemp "$workdir/body.XXXXXX")"
    printf '%s' "$2" >"$file"
    post "$1" "$file" "$3"
}

# fail_body CODE MESSAGE: the fail callback's JSON; a fixed one if even that cannot be built.
fail_body() {
    callback_body fail "$1" "$2" ||
        printf '{"code": "pipeline_error", "message": "the failure could not be described"}'
}

fail() { # CODE MESSAGE: report the failure and exit non-zero
    log "failed ($1): $2"
    post_json fail "$(fail_body "$1" "$2")" "$CALLBACK_ATTEMPTS" ||
        log "the failure could not be reported"
    exit 1
}

# shellcheck disable=SC2329 # called from on_signal
stop_pipeline() {
    if [[ -n "$pipeline_pid" ]] && kill -0 "$pipeline_pid" 2>/dev/null; then
        kill -TERM "$pipeline_pid" 2>/dev/null
        local waited=0
        while kill -0 "$pipeline_pid" 2>/dev/null && ((waited < STOP_GRACE * 10)); do
            sleep 0.1
            waited=$((waited + 1))
        done
        kill -KILL "$pipeline_pid" 2>/dev/null || true
    fi
}

# The latest progress, replaced atomically: the heartbeat loop may be reading it.
latest_progress="$workdir/latest-progress.json"
record_progress() { # JSON
    printf '%s' "$1" >"$latest_progress.new" && mv -f "$latest_progress.new" "$latest_progress"
}

# Runs in the background while the pipeline does: every HEARTBEAT_INTERVAL_SECONDS it posts the
# latest progress again (the API takes a repeat as a heartbeat). It stops on SIGTERM from
# stop_heartbeat, or by itself once this script is gone (killed without running its traps).
heartbeat_loop() {
    local sleeper=""
    trap 'kill "$sleeper" 2>/dev/null; exit 0' TERM
    while kill -0 "$$" 2>/dev/null; do
        sleep "$HEARTBEAT_INTERVAL_SECONDS" &
        sleeper=$!
        wait "$sleeper"
        kill -0 "$$" 2>/dev/null || break
        post progress "$latest_progress" 1 || log "heartbeat not reported (status $http_status)"
    done
}

# shellcheck disable=SC2329 # called by the TERM and INT traps
on_signal() { # CODE MESSAGE EXIT_STATUS
    trap '' TERM INT
    log "received a stop signal"
    stop_heartbeat
    stop_pipeline
    post_json fail "$(fail_body "$1" "$2")" "$CALLBACK_ATTEMPTS" ||
        log "the failure could not be reported"
    exit "$3"
}
# Batch sends SIGTERM on a timeout and on a cancel alike. A cancel is already known to the API
# (it asked for it), a timeout is not, so SIGTERM reports `timeout`; Ctrl-C is a cancel.
# A child of a split render stopped so reports segment_failed: the job is worth retrying.
stopped_code=timeout
if [[ "$RENDER_STEP" == segment || "$RENDER_STEP" == join ]]; then
    stopped_code=segment_failed
fi
trap 'on_signal "$stopped_code" "the job was stopped by SIGTERM (time limit reached or cancelled)" 143' TERM
trap 'on_signal canceled "the job was interrupted" 130' INT

if [[ "$RENDER_STEP" == segment || "$RENDER_STEP" == join ]]; then
    # The analysis' container started the job; this one goes on with it.
    log "running step $RENDER_STEP (batch job $BATCH_JOB_ID)"
elif ! start_body="$(callback_body start "$BATCH_JOB_ID")"; then
    log "cannot report the start of Batch job '$BATCH_JOB_ID': not running the job"
    exit 1
else
    post_json start "$start_body" "$CALLBACK_ATTEMPTS"
    started=$?
    if ((started != 0)); then
        if [[ "$http_status" == 409 ]]; then
            log "another container already runs job $JOB_ID: nothing to do"
            exit 0
        fi
        log "could not POST start (status $http_status): not running the job"
        exit 1
    fi
    log "started (batch job $BATCH_JOB_ID)"
fi
progress_fields='"stage": "probe", "percent": 0'
record_progress "{$progress_fields}"
heartbeat_loop &
heartbeat_pid=$!

result="$workdir/result.json"
limit_args=()
if [[ -n "${MAX_SOURCE_SECONDS:-}" ]]; then
    limit_args=(--max-duration "$MAX_SOURCE_SECONDS")
fi
exec 3< <(exec "$PYTHON" -m batch.reframer "$INPUT_URI" --out "$OUTPUT_PREFIX" \
    --options "$OPTIONS" "${limit_args[@]}" "${step_args[@]}" --progress-lines --result "$result")
pipeline_pid=$!
while IFS=' ' read -r -u 3 tag stage percent child children; do
    # A stage name and a number only: the API's ProgressCallback refuses anything else.
    if [[ "$tag" == PROGRESS && "$stage" =~ ^[a-z_]+$ && "$percent" =~ ^[0-9]+$ ]]; then
        of_child=""
        if [[ "$child" =~ ^[0-9]+$ && "$children" =~ ^[0-9]+$ ]]; then
            of_child=", \"child\": $child, \"children\": $children"
        fi
        progress_fields="\"stage\": \"$stage\", \"percent\": $percent$of_child"
        record_progress "{$progress_fields}"
        post progress "$latest_progress" "$PROGRESS_ATTEMPTS" ||
            log "progress $stage $percent% not reported (ignored)"
    fi
done
wait "$pipeline_pid"
status=$?
pipeline_pid=""
exec 3<&-
stop_heartbeat

if [[ "$status" == 0 && ("$RENDER_STEP" == analyse || "$RENDER_STEP" == segment) ]]; then
    log "step $RENDER_STEP done: the next Batch job goes on"
    # Until that job starts (it may wait for capacity) nothing heartbeats: the API is told, so
    # the sweeper waits as for a submitted job rather than failing the job as lost.
    post_json progress "{$progress_fields, \"handed_off\": true}" "$CALLBACK_ATTEMPTS" ||
        log "the hand-off was not reported (status $http_status)"
    exit 0
fi
if [[ "$status" != 0 && ("$RENDER_STEP" == segment || "$RENDER_STEP" == join) &&
    "${AWS_BATCH_JOB_ATTEMPT:-1}" -lt "${RENDER_ATTEMPTS:-1}" ]]; then
    log "step $RENDER_STEP failed on attempt ${AWS_BATCH_JOB_ATTEMPT:-1} of ${RENDER_ATTEMPTS}: left to Batch's retry"
    exit "$RETRY_STATUS"
fi
if [[ ! -s "$result" ]]; then
    fail pipeline_error "the pipeline stopped unexpectedly (exit status $status)"
fi
# "complete <json>" or "fail <json>": the result file checked against the contract.
if ! checked="$(callback_body result "$result" 2>"$workdir/result-problem")"; then
    fail pipeline_error "the pipeline's result does not fit the contract: $(cat "$workdir/result-problem")"
fi
kind=${checked%% *}
printf '%s' "${checked#* }" >"$workdir/callback.json"
if [[ "$kind" == complete && "$status" == 0 ]]; then
    if post complete "$workdir/callback.json" "$CALLBACK_ATTEMPTS"; then
        log "complete"
        exit 0
    fi
    log "the outputs are stored but complete could not be reported"
    exit 1
fi
if [[ "$kind" == fail ]]; then
    log "pipeline failed: $(cat "$workdir/callback.json")"
    post fail "$workdir/callback.json" "$CALLBACK_ATTEMPTS" || log "the failure could not be reported"
    exit 1
fi
fail pipeline_error "the pipeline stopped unexpectedly (exit status $status)"
