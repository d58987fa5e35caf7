//! HTTP-level tests of minsheng against a real database (SQLite or PostgreSQL, see helpers.rs).
mod accountability; // accountability records for inspectors (issue 20 point 6)
mod administration;
mod architecture;
mod auth;
mod auto_dispatch;
mod card_admin;
mod card_render;
mod card_scans;
mod cards;
mod case_file;
mod cli;
mod console_desk;
mod council; // 下交签批 and the village council (issue 20 point 7)
mod crash; // kill -9 under intake load (issue 21 point 4)
mod cross_scope; // every staff route aimed at the other township (issue 21 point 5)
mod dashboard;
mod disk_full; // the upload disk full (issue 21 point 4)
mod errors;
mod exports;
mod fuzz; // property-based fuzzing of the request parsers (issue 21 point 5)
mod going_live;
mod group_commit; // SQLite writes grouped into one commit (issue 21 point 1)
mod headers;
mod health;
mod helpers;
mod hotspots;
mod imports;
mod intake;
mod joint; // 联合办理 (issue 20 point 3)
mod leaves;
mod ledger;
mod limits;
mod lists; // the staff list at county scale: derived deadlines, text index, capped total (issue 21)
mod live;
mod loop_;
mod metrics_access;
mod one_door;
mod open311; // the Open311 GeoReport v2 facade (issue 19 point 3)
mod openapi;
mod orders;
mod outside; // units outside government (issue 20 point 4)
mod pages;
mod pause; // 挂起 (issue 20 point 1)
mod pg_restart; // PostgreSQL restarted under load (issue 21 point 4)
mod pg_socket; // PostgreSQL connections with TCP_NODELAY (issue 21)
mod proactive;
mod queues;
mod random_walk;
mod ranking;
mod redblack;
mod redis_down; // Redis stopped and started again (issue 21 point 4)
mod retention; // privacy: free-text masking and the retention job (issue 20 point 8)
mod roles_matrix;
mod rollups;
mod scale_out; // three instances on one PostgreSQL and Redis (issue 21 point 3)
mod scope;
mod screen; // the big screen's numbers (issue 18 point 1)
mod screens;
mod security;
mod sla_admin;
mod sms_admin;
mod sms_e2e;
mod sms_fakes;
mod sms_hooks;
mod sms_kill;
mod sms_only; // villagers who can only text (issue 20 point 9)
mod sms_providers;
mod sms_query; // ask the provider before sending again (issue 21 point 4)
mod sms_replies;
mod sms_support;
mod sms_worker;
mod smtp_sink;
mod stats;
mod sweeper;
mod tokens; // tampered staff tokens (issue 21 point 5)
mod transitions;
mod uploads;
mod upstream; // the city 12345 platform (issue 19 point 4)
mod villagers;
mod visits;
mod wechat_subscribe; // WeChat subscribe messages (issue 19 point 5)
mod weekly_email;
mod windows_urges;
mod worklink;
mod xss;
