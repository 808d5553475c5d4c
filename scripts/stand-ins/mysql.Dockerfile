# Stand-in for the official MySQL image, built by scripts/stand-in-images.sh
# only where that image cannot be pulled: Debian's MariaDB (wire compatible)
# behind an entrypoint that honours the official image's variables.
ARG BASE
FROM ${BASE}
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends mariadb-server mariadb-client \
    && rm -rf /var/lib/apt/lists/* /var/lib/mysql \
    && mkdir -p /var/lib/mysql /run/mysqld /etc/mysql/conf.d \
    && chown mysql:mysql /var/lib/mysql /run/mysqld
# As in the official image, /etc/mysql/conf.d is read last, so its settings
# win over the packaged defaults.
COPY my.cnf /etc/mysql/my.cnf
COPY mysql-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
VOLUME /var/lib/mysql
EXPOSE 3306
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["mysqld"]
