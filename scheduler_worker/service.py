"""The worker as an oslo.service Service: consume, heartbeat, stop cleanly."""

import dataclasses
import datetime
import logging
import sys

from kombu import serialization as kombu_serialization
from oslo_config import cfg
import oslo_messaging
from oslo_service import backend
from oslo_service import service
from oslo_utils import timeutils

from scheduler_worker import admin
from scheduler_worker import cleanup
from scheduler_worker import context
from scheduler_worker import exception
from scheduler_worker import manager
from scheduler_worker import metrics
from scheduler_worker import notifications
from scheduler_worker import objects
from scheduler_worker import operations
from scheduler_worker import rpc
from scheduler_worker import systemd
from scheduler_worker import volume_rpcapi
from scheduler_worker import volumes
from scheduler_worker.db import api as db
from scheduler_worker.messaging import server as rpc_server
from scheduler_worker.scheduler import backends
from scheduler_worker.scheduler import backups
from scheduler_worker.scheduler import driver
from scheduler_worker.scheduler import readiness

LOG = logging.getLogger(__name__)

BINARY = 'scheduler-worker'
# NOTE: in Cinder mode the services row is cinder-scheduler's: cinder-api
# pins its scheduler RPC and object versions on rows of this binary, and
# os-services lists it (reference §3.1, §7 trap 24).
CINDER_BINARY = 'cinder-scheduler'
# NOTE: a handled-cast key guards against a redelivery, which comes within
# minutes (a requeue, a restarted worker); a day covers it many times over.
HANDLED_CAST_TTL = datetime.timedelta(days=1)


def eventlet_monkey_patched() -> bool:
    """Whether anything monkey-patched threads (without importing eventlet)."""
    patcher = sys.modules.get('eventlet.patcher')
    return bool(patcher and patcher.is_monkey_patched('thread'))


class WorkerService(service.Service):
    """One worker process: an RPC server on the topic and a heartbeat.

    Nothing connects before start(): the launcher may fork this object
    into several processes, and connections must not be shared.
    """

    def __init__(self, conf: cfg.ConfigOpts, binary: str = BINARY,
                 transport: oslo_messaging.Transport | None = None,
                 notification_transport:
                 oslo_messaging.Transport | None = None,
                 notifier: systemd.Notifier | None = None) -> None:
        """The transports default to those the configuration names.

        ``notifier`` carries systemd's socket, which the master took out
        of the environment, into the worker processes.
        """
        super().__init__()
        self.conf = conf
        # NOTE: the one place the worker side asks which mode it is in.
        self.cinder = db.is_cinder(conf)
        self.binary = CINDER_BINARY if self.cinder else binary
        self.host = conf.host
        self.topic = conf.scheduler.topic
        self.service_ref = None
        self._creator = None
        self.outbox = None
        self._rpc_server = None
        self._given_transports = (transport, notification_transport)
        self._owned_transports = []
        self._notifier = notifier or systemd.Notifier()
        self._reporter = None
        self._readiness = None

    def _size_resources(self) -> None:
        """Tie prefetch and the DB pool to the worker's concurrency.

        Unset, oslo.messaging prefetches without limit and oslo.db opens up
        to 55 connections per process; a burst then exhausts the
        database's connections. These are defaults: explicit settings win.
        """
        concurrency = self.conf.scheduler.concurrency
        # NOTE: one connection per handler thread, one for the heartbeat
        # and one for the notification relay.
        self.conf.set_default('max_pool_size', concurrency + 2,
                              group='database')
        self.conf.set_default('max_overflow', 0, group='database')
        # NOTE: enough for every handler thread to take a full batch, and
        # one more read ahead.
        self.conf.set_default(
            'rabbit_qos_prefetch_count',
            (concurrency + 1) * self.conf.scheduler.batch_size,
            group='oslo_messaging_rabbit')

    def _transports(self) -> tuple:
        transport, notification_transport = self._given_transports
        if transport is None:
            transport = rpc.get_rpc_transport(self.conf)
            self._owned_transports.append(transport)
        if notification_transport is None:
            notification_transport = rpc.get_notification_transport(
                self.conf)
            self._owned_transports.append(notification_transport)
        return transport, notification_transport

    def start(self) -> None:
        # NOTE: kombu refuses pickle by default; say so here, since a
        # library enabling it would let any publisher run code in us.
        kombu_serialization.disable_insecure_serializers(['json'])
        transport, notification_transport = self._transports()
        # NOTE: after the transports registered their options, before the
        # first database connection and the consumer's channel.
        self._size_resources()
        # NOTE: the services row doubles as the check that the database
        # answers; we consume nothing before it does.
        self.service_ref = objects.Service.get_or_create(
            context.get_admin_context(), self.host, self.binary, self.topic)
        self.outbox = notifications.Outbox(self.conf, notification_transport,
                                           self.host, rpc_transport=transport)
        if self.cinder:
            # NOTE: before the relay: a hand-off still in the outbox is
            # left to it (db.workers_cleanup); once sent, its volume
            # would look abandoned until its volume service claims it.
            self.clean_own_workers()
        # NOTE: what a previous run committed but could not publish goes
        # out before anything new.
        self.outbox.relay()
        self._readiness = readiness.Readiness(
            self.conf.scheduler.driver_init_wait_time if self.cinder else 0)
        self._rpc_server = self._rpc_server_for(transport)
        self._rpc_server.start(
            override_pool_size=self.conf.scheduler.concurrency)
        if self.cinder:
            # NOTE: after the fanout queue is bound, so that no report
            # sent in answer is missed.
            volume_rpcapi.publish_service_capabilities(
                transport, context.get_admin_context())
        progress = self._rpc_server.progress
        self._reporter = systemd.Reporter(
            self._notifier, progress.attached.is_set, progress.consuming,
            'Consuming topic %s as host %s' % (self.topic, self.host))
        self._reporter.start()
        LOG.info('oslo.service backend: %s; RPC executor: %s; eventlet '
                 'monkey-patched: %s', backend.get_backend_type().value,
                 self._rpc_server.executor_type,
                 eventlet_monkey_patched())
        self.tg.add_timer(self.conf.report_interval, self.report_state,
                          initial_delay=self.conf.report_interval)
        interval = self.conf.scheduler.outbox_relay_interval
        self.tg.add_timer(interval, self.relay_notifications,
                          initial_delay=interval)
        if self.conf.metrics.enabled:
            self.tg.add_timer(self.conf.metrics.sample_interval,
                              self.sample_metrics)
        if self.cinder:
            # NOTE: Cinder's scheduler's only periodic tasks, which nothing
            # else runs once it is stopped (reference §3.5); both at start.
            self.tg.add_timer(self.conf.scheduler.message_reap_interval,
                              self.reap_messages)
            self.tg.add_timer(
                self.conf.scheduler.reservation_clean_interval,
                self.expire_reservations)
        LOG.info('%s consuming topic %s as host %s', self.binary,
                 self.topic, self.host)

    def clean_own_workers(self) -> None:
        """Cinder's start-up cleanup (CleanableManager.init_host): the
        workers rows naming our services row are what a previous run of
        this service left; volumes it left ``creating`` go to ``error``.

        A failure is logged, not raised: the rows stay for a
        ``POST /workers/cleanup``, and the worker serves meanwhile.
        """
        try:
            cleanup.clean_own(context.get_admin_context(),
                              self.service_ref.id)
        except Exception:
            LOG.exception('The start-up cleanup of the workers rows of '
                          'service %s failed', self.service_ref.id)

    def _rpc_server_for(self, transport) -> rpc_server.RPCServer:
        group = self.conf.scheduler
        scheduler = driver.FilterScheduler(self.conf)
        mode = volumes.Mode(cinder=self.cinder,
                            hand_off=self.cinder or group.hand_off,
                            max_attempts=group.max_attempts,
                            service_id=self.service_ref.id)
        creator = self._creator = volumes.VolumeCreator(
            self.outbox, max_size=group.max_volume_size_gb,
            scheduler=scheduler, mode=mode)
        registry = backends.BackendRegistry(self.conf)
        backup_registry = backups.BackupRegistry(group.backend_down_time)
        ops = operations.Operations(
            self.outbox, scheduler, backup_registry,
            self._readiness) if self.cinder else None
        endpoint = manager.SchedulerManager(
            creator, registry, backup_registry, self._readiness, ops,
            volume_types=(db.volume_type_get_by_name_or_id
                          if self.cinder else None),
            service_down_time=self.conf.service_down_time)
        return rpc_server.get_rpc_server(
            transport, self.topic, self.host,
            [endpoint, admin.AdminEndpoint(self.conf, scheduler)],
            report_poison=self.outbox.report_failure,
            max_message_bytes=group.max_message_bytes,
            batch_size=group.batch_size,
            batch_timeout=group.batch_window_ms / 1000.0,
            batch_handlers=[manager.CreateVolumeBatch(creator,
                                                      self._readiness)],
            concurrency=group.concurrency,
            dead_letter_policy=group.dead_letter_policy)

    def report_state(self) -> None:
        try:
            try:
                self.service_ref.heartbeat()
            except exception.ServiceNotFound:
                self._recreate_service_ref()
        except Exception:
            # NOTE: a missed heartbeat must not kill the timer; the next
            # one will tell whether the database is back.
            LOG.exception('Heartbeat of %s on %s failed', self.binary,
                          self.host)

    def _recreate_service_ref(self) -> None:
        """The services row is gone (``cinder-manage service remove``):
        make it again, as Cinder's Service.report_state does, and use its
        id from now on (the workers rows of the volumes placed next)."""
        LOG.warning('The services row of %s on %s (id %s) is gone; '
                    'recreating it', self.binary, self.host,
                    self.service_ref.id)
        self.service_ref = objects.Service.get_or_create(
            context.get_admin_context(), self.host, self.binary, self.topic)
        if self._creator is not None:
            self._creator.mode = dataclasses.replace(
                self._creator.mode, service_id=self.service_ref.id)

    def relay_notifications(self) -> None:
        try:
            self.outbox.relay()
            # NOTE: sampled here, on the relay's database connection: the
            # pool has one for the relay, none for the metrics timer.
            if self.conf.metrics.enabled:
                metrics.sample_outbox(self.outbox.pending())
        except Exception:
            LOG.exception('Relaying pending notifications failed')

    def reap_messages(self) -> None:
        """Expired user messages, and handled-cast keys past their use."""
        admin = context.get_admin_context()
        try:
            reaped = db.messages_reap(admin)
            LOG.info('Deleted %d expired user messages', reaped)
            forgotten = db.handled_casts_reap(
                admin, timeutils.utcnow() - HANDLED_CAST_TTL)
            LOG.info('Forgot %d handled-cast keys older than %s', forgotten,
                     HANDLED_CAST_TTL)
        except Exception:
            LOG.exception('Deleting expired user messages failed')

    def expire_reservations(self) -> None:
        try:
            expired = db.reservations_expire(context.get_admin_context())
            LOG.info('Rolled back %d expired quota reservations', expired)
        except Exception:
            LOG.exception('Rolling back expired reservations failed')

    def sample_metrics(self) -> None:
        try:
            metrics.sample(pool_checked_out=db.pool_checked_out())
        except Exception:
            LOG.exception('Sampling metrics failed')

    def stop(self, graceful: bool = True) -> None:
        """Stop consuming, finish the casts in flight, then disconnect."""
        # NOTE: no WATCHDOG=1 from a consumer that is going away.
        reporter, self._reporter = self._reporter, None
        if reporter is not None:
            reporter.stop()
        if self._readiness is not None:
            self._readiness.stop()
        server, self._rpc_server = self._rpc_server, None
        if server is not None:
            LOG.info('Stopping: no new casts; finishing those in flight')
            server.stop()
            server.wait()
        super().stop(graceful)
        for transport in self._owned_transports:
            transport.cleanup()
        self._owned_transports = []
        LOG.info('%s on %s stopped', self.binary, self.host)
