#!/bin/bash
#
# devstack/plugin.sh: install, configure, run and remove scheduler-worker.
#
# stack.sh sources this file once per phase, as `plugin.sh MODE [PHASE]`,
# after devstack/settings. Functions used and not defined here are
# devstack's (functions-common, inc/python, lib/database, lib/rpc_backend).

# Save trace setting
_XTRACE_SCHEDULER_WORKER=$(set +o | grep xtrace)
set -o xtrace

function install_scheduler_worker {
    setup_develop "$SCHEDULER_WORKER_DIR"
}

function configure_scheduler_worker {
    sudo install -d -o "$STACK_USER" -m 755 "$SCHEDULER_WORKER_CONF_DIR"
    sudo install -d -o "$STACK_USER" -m 750 "$SCHEDULER_WORKER_STATE_PATH"
    # NOTE: a re-stack starts from an empty file, so that nothing from an
    # earlier local.conf lingers; every other option keeps its default.
    rm -f "$SCHEDULER_WORKER_CONF"

    local conf=$SCHEDULER_WORKER_CONF
    iniset "$conf" DEFAULT debug "$ENABLE_DEBUG_LOG_LEVEL"
    iniset "$conf" DEFAULT host "$SCHEDULER_WORKER_HOST"
    iniset "$conf" DEFAULT state_path "$SCHEDULER_WORKER_STATE_PATH"
    iniset "$conf" DEFAULT workers "$SCHEDULER_WORKER_WORKERS"
    iniset "$conf" DEFAULT transport_url "$(get_transport_url)"
    iniset "$conf" scheduler topic "$SCHEDULER_WORKER_TOPIC"
    if [[ "$SCHEDULER_WORKER_REPLACE_CSCH" == "True" ]]; then
        # Cinder mode: Cinder's database, where the worker writes what
        # cinder-scheduler writes and keeps its own tables beside Cinder's.
        iniset "$conf" database backend cinder
        iniset "$conf" database connection \
            "$(database_connection_url "$SCHEDULER_WORKER_CINDER_DB_NAME")"
    else
        iniset "$conf" database connection \
            "$(database_connection_url "$SCHEDULER_WORKER_DB_NAME")"
    fi
    # Notifications use [DEFAULT] transport_url; the driver is the worker's
    # default already, written out so the file says what devstack runs.
    iniset "$conf" oslo_messaging_notifications driver messagingv2
    # Log formats that fit the journal (USE_SYSTEMD) or the console.
    setup_logging "$conf"
}

# The database is created here and its schema upgraded by the worker's own
# CLI: `db sync` is the only schema step there is.
function init_scheduler_worker {
    recreate_database "$SCHEDULER_WORKER_DB_NAME"
    sync_scheduler_worker
}

# In Cinder mode `db sync` creates only the worker's own tables in Cinder's
# database, and refuses until Cinder's schema is there: it runs in the
# extra phase, once lib/cinder's init_cinder has synced it.
function sync_scheduler_worker {
    "$SCHEDULER_WORKER_BIN_DIR/scheduler-worker-manage" \
        --config-file "$SCHEDULER_WORKER_CONF" db sync
}

function start_scheduler_worker {
    run_process scheduler-worker \
        "$SCHEDULER_WORKER_BIN_DIR/scheduler-worker --config-file $SCHEDULER_WORKER_CONF"
}

function stop_scheduler_worker {
    stop_process scheduler-worker
}

# NOTE: the database is left alone: devstack has no helper to drop one, and
# clean.sh removes the database server's data after the plugins' clean.
function cleanup_scheduler_worker {
    sudo rm -rf "$SCHEDULER_WORKER_CONF_DIR" "$SCHEDULER_WORKER_STATE_PATH"
}

if is_service_enabled scheduler-worker; then
    if [[ "$1" == "stack" && "$2" == "install" ]]; then
        echo_summary "Installing scheduler-worker"
        install_scheduler_worker
    elif [[ "$1" == "stack" && "$2" == "post-config" ]]; then
        echo_summary "Configuring scheduler-worker"
        configure_scheduler_worker
        if [[ "$SCHEDULER_WORKER_REPLACE_CSCH" != "True" ]]; then
            init_scheduler_worker
        fi
    elif [[ "$1" == "stack" && "$2" == "extra" ]]; then
        if [[ "$SCHEDULER_WORKER_REPLACE_CSCH" == "True" ]]; then
            sync_scheduler_worker
        fi
        echo_summary "Starting scheduler-worker"
        start_scheduler_worker
    fi

    if [[ "$1" == "unstack" ]]; then
        stop_scheduler_worker
    fi

    if [[ "$1" == "clean" ]]; then
        cleanup_scheduler_worker
    fi
fi

# Restore xtrace
$_XTRACE_SCHEDULER_WORKER
