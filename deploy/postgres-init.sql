-- One database per service (they never read each other's tables). The services create their
-- runtime roles and run their migrations at start-up.
CREATE DATABASE gongkai_pledge;
CREATE DATABASE gongkai_review;
CREATE DATABASE gongkai_evaluation;
CREATE DATABASE gongkai_notification;
