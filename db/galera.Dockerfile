# One node of the cluster stack's MariaDB Galera cluster (compose.cluster.yaml,
# ./up.sh --cluster): Debian's MariaDB with galera-4, and rsync for state
# transfers. The same character set as the single stack's server (my.cnf).
FROM debian:12.15-slim
# The SST scripts find the rsync daemon they start with ss (iproute2) or lsof.
# Unpinned on purpose: Debian's security updates.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends mariadb-server galera-4 rsync iproute2 lsof procps \
    && rm -rf /var/lib/apt/lists/* /var/lib/mysql \
    && install -d -o mysql -g mysql -m 0750 /var/lib/mysql \
    && install -d -o mysql -g mysql /run/mysqld
COPY my.cnf /etc/mysql/mariadb.conf.d/90-hiring.cnf
COPY galera.cnf /etc/mysql/mariadb.conf.d/99-galera.cnf
COPY galera-entrypoint.sh /usr/local/bin/galera-entrypoint
COPY galera-healthcheck.sh /usr/local/bin/galera-healthcheck
VOLUME /var/lib/mysql
EXPOSE 3306 4567 4568 4444
# A clean shutdown leaves the node safe to bootstrap the cluster from.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=3s --timeout=5s --retries=100 --start-period=120s CMD ["galera-healthcheck"]
ENTRYPOINT ["galera-entrypoint"]
