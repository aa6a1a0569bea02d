"""The web page for compliance officers (issue 23), served by ``baygate serve`` at ``/``.

Built the way Datasette builds its interface: server-rendered Jinja2 templates (``templates/``, one
per page over a shared ``base.html``), a little htmx for the live decision panel, every asset served
by baygate itself (``static/``, vendored npm packages in ``static/vendor``), three languages from
gettext catalogs (``locale/``, api.web.i18n). It runs in the same process as the API, with the same
engine, ledger, keys and roles (api.web.render, api.web.session); ``api.web.mount.install`` adds it to
the app. This module imports nothing, so the CLI (which reads ``api.web.session``) starts as fast as
before.
"""
