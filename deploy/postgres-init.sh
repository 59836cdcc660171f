#!/bin/sh
# One database per service (they never read each other's tables), owned by gongkai_owner: a
# login that may create roles and databases but is no superuser. The services log in as it
# only at start-up, to run their migrations and to make their own runtime logins
# (gongkai_<service>_runtime, INSERT and SELECT on the log: shared/database.py), and serve
# through those. Its password is a secret of the deployment (GONGKAI_POSTGRES_OWNER_PASSWORD).
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres <<SQL
CREATE ROLE gongkai_owner LOGIN CREATEROLE PASSWORD '${GONGKAI_POSTGRES_OWNER_PASSWORD}';
CREATE DATABASE gongkai_pledge OWNER gongkai_owner;
CREATE DATABASE gongkai_review OWNER gongkai_owner;
CREATE DATABASE gongkai_evaluation OWNER gongkai_owner;
CREATE DATABASE gongkai_notification OWNER gongkai_owner;
CREATE DATABASE gongkai_identity OWNER gongkai_owner;
SQL
