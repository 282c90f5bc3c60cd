"""A plain HTTP client of Cinder's block storage API v3, as a user drives it.

With ``auth_strategy = noauth`` cinder-api takes ``X-Auth-Token:
<user>:<project>`` as an admin context (harmless: not a secret). Project
ids must match Cinder's ``project_id_regex``: 32 hex characters here.
"""

import json
import time
import urllib.error
import urllib.request
import uuid

# Cinder 29's highest microversion; every call below exists at it.
MICROVERSION = '3.71'
BEFORE_BACKEND_STATE = '3.48'
FINAL_VOLUME = frozenset({'available', 'error', 'in-use', 'error_extending',
                          'error_managing', 'error_restoring'})


class HTTPError(AssertionError):
    """cinder-api answered with a status the caller did not expect."""

    def __init__(self, method: str, path: str, status: int, body: str):
        super().__init__('%s %s -> %d: %s' % (method, path, status,
                                              body[:2000]))
        self.status = status
        self.body = body


class CinderClient:
    """One project's view of cinder-api (admin, through noauth)."""

    def __init__(self, endpoint: str, project_id: str | None = None,
                 user_id: str = 'lab-user', timeout: float = 60) -> None:
        self.endpoint = endpoint.rstrip('/')
        self.project_id = project_id or uuid.uuid4().hex
        self.user_id = user_id
        self.timeout = timeout
        # NOTE: a list here records each request (method, path, body,
        # microversion): the wire captures say what was asked.
        self.history: list[dict] | None = None

    # Transport

    def request(self, method: str, path: str, body: dict | None = None,
                microversion: str = MICROVERSION) -> dict | None:
        """One call under /v3/<project>; the decoded JSON reply, if any."""
        url = '%s/v3/%s%s' % (self.endpoint, self.project_id, path)
        if self.history is not None:
            self.history.append({'method': method, 'path': path,
                                 'body': body, 'microversion': microversion})
        data = json.dumps(body).encode() if body is not None else None
        headers = {'X-Auth-Token': '%s:%s' % (self.user_id, self.project_id),
                   'Accept': 'application/json',
                   'OpenStack-API-Version': 'volume %s' % microversion}
        if data is not None:
            headers['Content-Type'] = 'application/json'
        request = urllib.request.Request(url, data=data, method=method,
                                         headers=headers)
        try:
            with urllib.request.urlopen(request,
                                        timeout=self.timeout) as response:
                text = response.read().decode()
        except urllib.error.HTTPError as exc:
            raise HTTPError(method, path, exc.code,
                            exc.read().decode(errors='replace')) from None
        return json.loads(text) if text.strip() else None

    def answers(self) -> bool:
        """cinder-api listens and lists its versions."""
        try:
            with urllib.request.urlopen(self.endpoint + '/', timeout=5):
                return True
        except urllib.error.HTTPError as exc:
            # NOTE: the version document comes with 300 Multiple Choices.
            return exc.code == 300
        except OSError:
            return False

    # Waiting (deadlines, never fixed sleeps)

    @staticmethod
    def wait_for(fetch, done, timeout: float, what: str,
                 interval: float = 0.2):
        """Poll fetch() until done(value); return the value."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                value = fetch()
            except HTTPError as exc:
                # NOTE: a poll is a GET: a server error (the database
                # restarting under cinder-api) means "ask again".
                if exc.status < 500:
                    raise
                value = exc
            if not isinstance(value, HTTPError) and done(value):
                return value
            if time.monotonic() > deadline:
                raise AssertionError('timed out after %ss waiting for %s; '
                                     'last: %r' % (timeout, what, value))
            time.sleep(interval)

    # Project set-up

    def unlimited_quotas(self) -> dict:
        unlimited = {key: -1 for key in (
            'volumes', 'snapshots', 'gigabytes', 'backups',
            'backup_gigabytes', 'groups', 'per_volume_gigabytes')}
        return self.request('PUT', '/os-quota-sets/%s' % self.project_id,
                            {'quota_set': unlimited})['quota_set']

    # Volumes

    def create_volume(self, size: int = 1, **fields) -> dict:
        return self.request('POST', '/volumes', {
            'volume': dict(size=size, **fields)})['volume']

    def show_volume(self, volume_id: str) -> dict:
        return self.request('GET', '/volumes/%s' % volume_id)['volume']

    def list_volumes(self, **filters) -> list[dict]:
        query = '&'.join('%s=%s' % item for item in
                         dict({'limit': 1000}, **filters).items())
        return self.request('GET', '/volumes/detail?' + query)['volumes']

    def wait_volume(self, volume_id: str, statuses=FINAL_VOLUME,
                    timeout: float = 60) -> dict:
        return self.wait_for(
            lambda: self.show_volume(volume_id),
            lambda volume: volume['status'] in statuses, timeout,
            'volume %s to reach %s' % (volume_id, sorted(statuses)))

    def wait_volumes(self, ids, statuses=FINAL_VOLUME,
                     timeout: float = 120) -> dict[str, dict]:
        """{id: volume} once every volume of ``ids`` is in ``statuses``."""
        wanted = set(ids)

        def fetch():
            return {v['id']: v for v in self.list_volumes()
                    if v['id'] in wanted}

        return self.wait_for(
            fetch, lambda found: len(found) == len(wanted) and all(
                v['status'] in statuses for v in found.values()),
            timeout, '%d volumes to reach %s' % (len(wanted),
                                                 sorted(statuses)),
            interval=0.5)

    def delete_volume(self, volume_id: str) -> None:
        self.request('DELETE', '/volumes/%s' % volume_id)

    def volume_action(self, volume_id: str, action: str,
                      args: dict | None = None) -> dict | None:
        return self.request('POST', '/volumes/%s/action' % volume_id,
                            {action: args})

    def extend(self, volume_id: str, new_size: int) -> None:
        self.volume_action(volume_id, 'os-extend', {'new_size': new_size})

    def retype(self, volume_id: str, new_type: str,
               migration_policy: str = 'never') -> None:
        self.volume_action(volume_id, 'os-retype', {
            'new_type': new_type, 'migration_policy': migration_policy})

    def migrate(self, volume_id: str, host: str, force_host_copy=False,
                lock_volume=False) -> None:
        self.volume_action(volume_id, 'os-migrate_volume', {
            'host': host, 'force_host_copy': force_host_copy,
            'lock_volume': lock_volume})

    def manage_volume(self, host: str, source_name: str, **fields) -> dict:
        return self.request('POST', '/manageable_volumes', {'volume': dict(
            host=host, ref={'source-name': source_name}, **fields)})['volume']

    # Snapshots and backups

    def create_snapshot(self, volume_id: str, **fields) -> dict:
        return self.request('POST', '/snapshots', {'snapshot': dict(
            volume_id=volume_id, **fields)})['snapshot']

    def show_snapshot(self, snapshot_id: str) -> dict:
        return self.request('GET', '/snapshots/%s' % snapshot_id)['snapshot']

    def wait_snapshot(self, snapshot_id: str,
                      statuses=('available', 'error'),
                      timeout: float = 60) -> dict:
        return self.wait_for(
            lambda: self.show_snapshot(snapshot_id),
            lambda snapshot: snapshot['status'] in statuses, timeout,
            'snapshot %s to reach %s' % (snapshot_id, sorted(statuses)))

    def manage_snapshot(self, volume_id: str, source_name: str,
                        **fields) -> dict:
        return self.request('POST', '/manageable_snapshots', {
            'snapshot': dict(volume_id=volume_id,
                             ref={'source-name': source_name},
                             **fields)})['snapshot']

    def create_backup(self, volume_id: str, **fields) -> dict:
        return self.request('POST', '/backups', {'backup': dict(
            volume_id=volume_id, **fields)})['backup']

    def show_backup(self, backup_id: str) -> dict:
        return self.request('GET', '/backups/%s' % backup_id)['backup']

    def wait_backup(self, backup_id: str, statuses=('available', 'error'),
                    timeout: float = 90) -> dict:
        return self.wait_for(
            lambda: self.show_backup(backup_id),
            lambda backup: backup['status'] in statuses, timeout,
            'backup %s to reach %s' % (backup_id, sorted(statuses)))

    # Types and groups

    def create_type(self, name: str, extra_specs: dict | None = None,
                    **fields) -> dict:
        return self.request('POST', '/types', {'volume_type': dict(
            name=name, extra_specs=extra_specs or {}, **fields)})[
                'volume_type']

    def volume_types(self) -> list[dict]:
        return self.request('GET', '/types')['volume_types']

    def set_type_extra_specs(self, type_id: str, specs: dict) -> dict:
        return self.request('POST', '/types/%s/extra_specs' % type_id,
                            {'extra_specs': specs})['extra_specs']

    def create_group_type(self, name: str, group_specs=None) -> dict:
        return self.request('POST', '/group_types', {'group_type': {
            'name': name, 'group_specs': group_specs or {}}})['group_type']

    def create_group(self, group_type: str, volume_types: list[str],
                     name: str = 'lab-group') -> dict:
        return self.request('POST', '/groups', {'group': {
            'name': name, 'group_type': group_type,
            'volume_types': volume_types}})['group']

    def show_group(self, group_id: str) -> dict:
        return self.request('GET', '/groups/%s' % group_id)['group']

    # The scheduler and the services, as an operator sees them

    def get_pools(self, detail: bool = True) -> list[dict]:
        return self.request('GET', '/scheduler-stats/get_pools?detail=%s'
                            % detail)['pools']

    def services(self, binary: str | None = None,
                 microversion: str = MICROVERSION) -> list[dict]:
        """os-services. From 3.49 on cinder-api asks the scheduler for
        get_pools first (an RPC call): without a scheduler it answers 500
        after rpc_response_timeout. 3.48 lists services from the DB only.
        """
        path = '/os-services' + ('?binary=%s' % binary if binary else '')
        return self.request('GET', path,
                            microversion=microversion)['services']

    def messages(self) -> list[dict]:
        return self.request('GET', '/messages')['messages']

    def workers_cleanup(self, **filters) -> dict:
        return self.request('POST', '/workers/cleanup', filters)

    def get_log_levels(self, binary: str = '*', server: str = '',
                       prefix: str = '') -> list[dict]:
        return self.request('PUT', '/os-services/get-log', {
            'binary': binary, 'server': server, 'prefix': prefix})[
                'log_levels']

    def set_log_levels(self, level: str, binary: str = '*',
                       server: str = '', prefix: str = '') -> None:
        self.request('PUT', '/os-services/set-log', {
            'binary': binary, 'server': server, 'prefix': prefix,
            'level': level})
