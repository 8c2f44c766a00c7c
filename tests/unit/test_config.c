/* test_config.c: zoo.cfg, myid and JAAS parsing (core/config.h). */
#include "test_util.h"

#include "config.h"
#include "err.h"

static char errmsg[256];

static int parse(struct pd_config *cfg, const char *text)
{
	errmsg[0] = '\0';
	return pd_config_parse(cfg, text, strlen(text), errmsg, sizeof(errmsg));
}

static int finish(struct pd_config *cfg)
{
	errmsg[0] = '\0';
	return pd_config_finish(cfg, errmsg, sizeof(errmsg));
}

static void test_defaults(void **state)
{
	struct pd_config cfg;
	(void)state;
	pd_config_defaults(&cfg);
	assert_int_equal(cfg.tick_ms, 3000); /* ZooKeeperServer.DEFAULT_TICK_TIME */
	assert_int_equal(cfg.init_limit, 10);
	assert_int_equal(cfg.sync_limit, 5);
	assert_int_equal(cfg.session_timeout_ms_min, -1);
	assert_int_equal(cfg.session_timeout_ms_max, -1);
	assert_int_equal(cfg.client_port, 2181);
	assert_int_equal(cfg.max_client_cnxns, 60);
	assert_int_equal(cfg.packet_bytes_max, 0xfffff);
	assert_int_equal(cfg.fourlw_whitelist, PD_4LW_SRVR); /* only srvr by default */
	assert_false(cfg.extended_types);
	assert_false(cfg.reconfig_enabled);
	assert_true(cfg.standalone_enabled);
	assert_int_equal(cfg.server_count, 0);
	assert_true(cfg.memory_budget_bytes == 0);
	assert_true(cfg.container_check_interval_ms == 60000);
	assert_int_equal(cfg.container_max_per_minute, 10000);
	assert_string_equal(cfg.data_dir, "");
}

static void test_session_timeout_defaults_follow_tick(void **state)
{
	struct pd_config cfg;
	(void)state;
	assert_int_equal(parse(&cfg, "tickTime=2000\ndataDir=/var/zk\n"), 0);
	assert_int_equal(finish(&cfg), 0);
	assert_int_equal(cfg.tick_ms, 2000);
	assert_int_equal(cfg.session_timeout_ms_min, 4000);  /* 2 x tickTime */
	assert_int_equal(cfg.session_timeout_ms_max, 40000); /* 20 x tickTime */
	assert_string_equal(cfg.data_dir, "/var/zk");
	assert_string_equal(cfg.data_log_dir, "/var/zk"); /* dataLogDir defaults to dataDir */
	/* -1 means the default */
	assert_int_equal(parse(&cfg, "tickTime=1000\ndataDir=/d\nminSessionTimeout=-1\nmaxSessionTimeout=-1\n"), 0);
	assert_int_equal(finish(&cfg), 0);
	assert_int_equal(cfg.session_timeout_ms_min, 2000);
	assert_int_equal(cfg.session_timeout_ms_max, 20000);
	/* explicit values are kept */
	assert_int_equal(parse(&cfg, "dataDir=/d\nminSessionTimeout=100\nmaxSessionTimeout=900000\n"), 0);
	assert_int_equal(finish(&cfg), 0);
	assert_int_equal(cfg.session_timeout_ms_min, 100);
	assert_int_equal(cfg.session_timeout_ms_max, 900000);
	/* min above max is refused */
	assert_int_equal(parse(&cfg, "dataDir=/d\nminSessionTimeout=5000\nmaxSessionTimeout=4000\n"), 0);
	assert_int_equal(finish(&cfg), PD_ECONFIG);
	assert_non_null(strstr(errmsg, "minSessionTimeout"));
	/* only max given: min follows the tick and must still fit */
	assert_int_equal(parse(&cfg, "tickTime=2000\ndataDir=/d\nmaxSessionTimeout=3000\n"), 0);
	assert_int_equal(finish(&cfg), PD_ECONFIG);
}

static void test_syntax(void **state)
{
	struct pd_config cfg;
	(void)state;
	/* comments, blank lines, CRLF, spaces around keys, '=' and values */
	assert_int_equal(parse(&cfg, "# a comment\r\n\r\n   \n  tickTime = 2500 \r\n\tclientPort=2182\t\n"
				     "dataDir=/tmp/x=y\n# clientPort=1\n"),
			 0);
	assert_int_equal(cfg.tick_ms, 2500);
	assert_int_equal(cfg.client_port, 2182);
	assert_string_equal(cfg.data_dir, "/tmp/x=y"); /* only the first '=' separates */
	/* no trailing newline */
	assert_int_equal(parse(&cfg, "clientPort=3000"), 0);
	assert_int_equal(cfg.client_port, 3000);
	/* parsing starts from the defaults every time */
	assert_int_equal(parse(&cfg, ""), 0);
	assert_int_equal(cfg.client_port, 2181);
	/* unknown keys are accepted, as ZooKeeper turns them into system properties */
	assert_int_equal(parse(&cfg, "autopurge.snapRetainCount=3\nforceSync=no\nadmin.enableServer=false\n"), 0);
}

static void test_errors_are_line_numbered(void **state)
{
	struct pd_config cfg;
	(void)state;
	assert_int_equal(parse(&cfg, "dataDir=/d\n# c\ntickTime=abc\n"), PD_ECONFIG);
	assert_non_null(strstr(errmsg, "line 3"));
	assert_non_null(strstr(errmsg, "tickTime"));
	assert_non_null(strstr(errmsg, "abc"));
	assert_int_equal(parse(&cfg, "dataDir=/d\njust some words\n"), PD_ECONFIG);
	assert_non_null(strstr(errmsg, "line 2"));
	assert_int_equal(parse(&cfg, "clientPort=70000\n"), PD_ECONFIG);
	assert_non_null(strstr(errmsg, "line 1"));
	assert_non_null(strstr(errmsg, "clientPort"));
	assert_int_equal(parse(&cfg, "\n\n\n\ntickTime=0\n"), PD_ECONFIG);
	assert_non_null(strstr(errmsg, "line 5"));
	assert_int_equal(parse(&cfg, "tickTime=\n"), PD_ECONFIG);
	assert_int_equal(parse(&cfg, "tickTime=12x\n"), PD_ECONFIG);
	assert_int_equal(parse(&cfg, "maxClientCnxns=-3\n"), PD_ECONFIG);
	assert_int_equal(parse(&cfg, "minSessionTimeout=-2\n"), PD_ECONFIG);
	assert_int_equal(parse(&cfg, "jute.maxbuffer=10\n"), PD_ECONFIG);
	assert_int_equal(parse(&cfg, "extendedTypesEnabled=maybe\n"), PD_ECONFIG);
	assert_int_equal(parse(&cfg, "paddock.memoryBudgetMB=-1\n"), PD_ECONFIG);
}

static void test_typed_keys(void **state)
{
	struct pd_config cfg;
	(void)state;
	assert_int_equal(parse(&cfg, "initLimit=7\nsyncLimit=3\nmaxClientCnxns=0\njute.maxbuffer=4194304\n"
				     "clientPortAddress=127.0.0.1\ndataLogDir=/log\nreconfigEnabled=true\n"
				     "standaloneEnabled=false\nznode.container.checkIntervalMs=1000\n"
				     "znode.container.maxPerMinute=5\nznode.container.maxNeverUsedIntervalMs=30000\n"
				     "paddock.memoryBudgetMB=64\npaddock.outputBufferMB=2\n"),
			 0);
	assert_int_equal(cfg.init_limit, 7);
	assert_int_equal(cfg.sync_limit, 3);
	assert_int_equal(cfg.max_client_cnxns, 0);
	assert_int_equal(cfg.packet_bytes_max, 4194304);
	assert_string_equal(cfg.client_port_address, "127.0.0.1");
	assert_string_equal(cfg.data_log_dir, "/log");
	assert_true(cfg.reconfig_enabled);
	assert_false(cfg.standalone_enabled);
	assert_true(cfg.container_check_interval_ms == 1000);
	assert_int_equal(cfg.container_max_per_minute, 5);
	assert_true(cfg.container_max_never_used_ms == 30000);
	assert_true(cfg.memory_budget_bytes == 64ull << 20);
	assert_int_equal(cfg.outbuf_bytes_max, 2u << 20);
	/* the system-property spelling of a key works too */
	assert_int_equal(parse(&cfg, "zookeeper.extendedTypesEnabled=true\n"
				     "zookeeper.DigestAuthenticationProvider.superDigest=super:D/InIHSb7yEEbrWz8b9l71RjZJU=\n"),
			 0);
	assert_true(cfg.extended_types);
	assert_string_equal(cfg.super_digest, "super:D/InIHSb7yEEbrWz8b9l71RjZJU=");
	assert_int_equal(parse(&cfg, "extendedTypesEnabled=yes\njava.security.auth.login.config=/etc/jaas.conf\n"), 0);
	assert_true(cfg.extended_types);
	assert_string_equal(cfg.jaas_path, "/etc/jaas.conf");
	/* but a key merely starting like a known one is not it */
	assert_int_equal(parse(&cfg, "tickTimeX=5\nclientPorts=1\n"), 0);
	assert_int_equal(cfg.tick_ms, 3000);
	assert_int_equal(cfg.client_port, 2181);
}

static void test_whitelist(void **state)
{
	struct pd_config cfg;
	(void)state;
	assert_int_equal(parse(&cfg, "4lw.commands.whitelist=ruok, stat\n"), 0);
	assert_int_equal(cfg.fourlw_whitelist, PD_4LW_SRVR | PD_4LW_RUOK | PD_4LW_STAT);
	assert_int_equal(parse(&cfg, "4lw.commands.whitelist=*\n"), 0);
	assert_int_equal(cfg.fourlw_whitelist, PD_4LW_ALL);
	assert_int_equal(parse(&cfg, "4lw.commands.whitelist= * \n"), 0);
	assert_int_equal(cfg.fourlw_whitelist, PD_4LW_ALL);
	assert_int_equal(parse(&cfg, "4lw.commands.whitelist=mntr,*\n"), 0);
	assert_int_equal(cfg.fourlw_whitelist, PD_4LW_ALL);
	/* unknown words are ignored; srvr is always on */
	assert_int_equal(parse(&cfg, "4lw.commands.whitelist=bogus,ruok,,wchs,toolong\n"), 0);
	assert_int_equal(cfg.fourlw_whitelist, PD_4LW_SRVR | PD_4LW_RUOK | PD_4LW_WCHS);
	assert_int_equal(parse(&cfg, "4lw.commands.whitelist=\n"), 0);
	assert_int_equal(cfg.fourlw_whitelist, PD_4LW_SRVR);
	assert_int_equal(parse(&cfg, "4lw.commands.whitelist=RUOK\n"), 0);
	assert_int_equal(cfg.fourlw_whitelist, PD_4LW_SRVR);
	/* every word has its own bit */
	{
		static const char *words[] = {"ruok", "srvr", "stat", "mntr", "conf", "cons", "envi", "wchs", "dump",
					      "isro", "wchc", "wchp", "dirs", "crst", "srst", "gtmk", "stmk", "hash"};
		uint32_t all = 0;
		size_t i;
		for (i = 0; i < PD_ARRAY_LEN(words); i++) {
			uint32_t bit = pd_config_fourlw_bit(words[i]);
			assert_int_not_equal(bit, 0);
			assert_int_equal(all & bit, 0);
			all |= bit;
		}
		assert_int_equal(all, PD_4LW_ALL);
		assert_int_equal(pd_config_fourlw_bit("xxxx"), 0);
		assert_int_equal(pd_config_fourlw_bit("Ruok"), 0);
	}
}

static void test_server_lines(void **state)
{
	struct pd_config cfg;
	(void)state;
	assert_int_equal(parse(&cfg, "dataDir=/d\nserver.1=localhost:2888:3888\n"), 0);
	assert_int_equal(cfg.server_count, 1);
	assert_true(cfg.servers[0].sid == 1);
	assert_string_equal(cfg.servers[0].host, "localhost");
	assert_int_equal(cfg.servers[0].quorum_port, 2888);
	assert_int_equal(cfg.servers[0].election_port, 3888);
	assert_false(cfg.servers[0].observer);
	assert_true(pd_config_is_standalone(&cfg));
	assert_int_equal(finish(&cfg), 0);

	assert_int_equal(parse(&cfg, "dataDir=/d\nserver.1=h1:2888:3888:participant;2181\n"
				     "server.2=h2:2889:3889;0.0.0.0:2182\nserver.17=h3:2890:3890:observer\n"),
			 0);
	assert_int_equal(cfg.server_count, 3);
	assert_false(cfg.servers[0].observer);
	assert_string_equal(cfg.servers[1].host, "h2");
	assert_int_equal(cfg.servers[1].election_port, 3889);
	assert_true(cfg.servers[2].sid == 17);
	assert_true(cfg.servers[2].observer);
	assert_false(pd_config_is_standalone(&cfg));
	assert_int_equal(finish(&cfg), 0); /* an ensemble (myid comes from dataDir/myid) */

	assert_int_equal(parse(&cfg, "dataDir=/d\nserver.1=localhost:2888:3888\n"), 0);
	cfg.standalone_enabled = false;
	assert_false(pd_config_is_standalone(&cfg));

	assert_int_equal(parse(&cfg, "server.x=h:1:2\n"), PD_ECONFIG);
	assert_non_null(strstr(errmsg, "line 1"));
	assert_int_equal(parse(&cfg, "\nserver.1=h:2888\n"), PD_ECONFIG);
	assert_non_null(strstr(errmsg, "line 2"));
	assert_int_equal(parse(&cfg, "server.1=h:70000:3888\n"), PD_ECONFIG);
	assert_int_equal(parse(&cfg, "server.1=h:0:3888\n"), PD_ECONFIG);
	assert_int_equal(parse(&cfg, "server.-1=h:1:2\n"), PD_ECONFIG);
}

static void test_finish_checks(void **state)
{
	struct pd_config cfg;
	(void)state;
	assert_int_equal(parse(&cfg, "tickTime=2000\n"), 0);
	assert_int_equal(finish(&cfg), PD_ECONFIG);
	assert_non_null(strstr(errmsg, "dataDir"));
	assert_int_equal(parse(&cfg, "dataDir=/d\nDigestAuthenticationProvider.superDigest=nocolon\n"), 0);
	assert_int_equal(finish(&cfg), PD_ECONFIG);
	assert_int_equal(parse(&cfg, "dataDir=/d\nextendedTypesEnabled=true\n"), 0);
	cfg.my_id = 255; /* TTL owners need a top byte below 0xFF */
	assert_int_equal(finish(&cfg), PD_ECONFIG);
	cfg.my_id = 254;
	assert_int_equal(finish(&cfg), 0);
}

static void test_myid(void **state)
{
	struct pd_config cfg;
	(void)state;
	pd_config_defaults(&cfg);
	assert_int_equal(pd_config_parse_myid(&cfg, "3\n", 2, errmsg, sizeof(errmsg)), 0);
	assert_true(cfg.my_id == 3);
	assert_int_equal(pd_config_parse_myid(&cfg, "5", 1, errmsg, sizeof(errmsg)), 0);
	assert_true(cfg.my_id == 5);
	assert_int_equal(pd_config_parse_myid(&cfg, "17\n\n", 4, errmsg, sizeof(errmsg)), 0);
	assert_true(cfg.my_id == 17);
	assert_int_equal(pd_config_parse_myid(&cfg, "abc", 3, errmsg, sizeof(errmsg)), PD_ECONFIG);
	assert_non_null(strstr(errmsg, "myid"));
	assert_int_equal(pd_config_parse_myid(&cfg, "", 0, errmsg, sizeof(errmsg)), PD_ECONFIG);
	assert_int_equal(pd_config_parse_myid(&cfg, "-1", 2, errmsg, sizeof(errmsg)), PD_ECONFIG);
	assert_true(cfg.my_id == 17);
}

/* A myid file with a CRLF line ending (written on Windows, or by echo in some
 * shells): ZooKeeper's QuorumPeerConfig.setupMyId() reads it with
 * BufferedReader.readLine(), which strips "\r\n", so "17\r\n" is server 17. */
static void test_myid_crlf(void **state)
{
	struct pd_config cfg;
	(void)state;
	pd_config_defaults(&cfg);
	assert_int_equal(pd_config_parse_myid(&cfg, "17\r\n", 4, errmsg, sizeof(errmsg)), 0);
	assert_true(cfg.my_id == 17);
}

static void test_jaas(void **state)
{
	struct pd_config cfg;
	const char *jaas =
		"Client {\n"
		"       org.apache.zookeeper.server.auth.DigestLoginModule required\n"
		"       username=\"bob\"\n"
		"       user_notme=\"client-side\"\n"
		"       password=\"bobsecret\";\n"
		"};\n"
		"QuorumServer {\n"
		"       org.apache.zookeeper.server.auth.DigestLoginModule required\n"
		"       user_quorum=\"qpw\";\n"
		"};\n"
		"Server {\n"
		"       org.apache.zookeeper.server.auth.DigestLoginModule required\n"
		"       user_super=\"adminsecret\"\n"
		"       user_bob=\"bob secret with spaces\";\n"
		"};\n";
	(void)state;
	pd_config_defaults(&cfg);
	assert_int_equal(pd_config_parse_jaas(&cfg, jaas, strlen(jaas), errmsg, sizeof(errmsg)), 0);
	assert_int_equal(cfg.sasl_user_count, 2);
	assert_string_equal(cfg.sasl_users[0].name, "super");
	assert_string_equal(cfg.sasl_users[0].password, "adminsecret");
	assert_string_equal(cfg.sasl_users[1].name, "bob");
	assert_string_equal(cfg.sasl_users[1].password, "bob secret with spaces");

	{
		const char *spaced = "Server {\n  x required user_a = \"1\" user_b=\"\";\n};";
		assert_int_equal(pd_config_parse_jaas(&cfg, spaced, strlen(spaced), errmsg, sizeof(errmsg)), 0);
		assert_int_equal(cfg.sasl_user_count, 2);
		assert_string_equal(cfg.sasl_users[0].name, "a");
		assert_string_equal(cfg.sasl_users[0].password, "1");
		assert_string_equal(cfg.sasl_users[1].name, "b");
		assert_string_equal(cfg.sasl_users[1].password, "");
	}
	{
		const char *none = "Client {\n user_a=\"1\";\n};\n";
		assert_int_equal(pd_config_parse_jaas(&cfg, none, strlen(none), errmsg, sizeof(errmsg)), PD_ECONFIG);
		assert_non_null(strstr(errmsg, "Server"));
	}
	{
		const char *bad = "Server {\n m required\n user_a=\"unterminated;\n};\n";
		assert_int_equal(pd_config_parse_jaas(&cfg, bad, strlen(bad), errmsg, sizeof(errmsg)), PD_ECONFIG);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_session_timeout_defaults_follow_tick),
		cmocka_unit_test(test_syntax),
		cmocka_unit_test(test_errors_are_line_numbered),
		cmocka_unit_test(test_typed_keys),
		cmocka_unit_test(test_whitelist),
		cmocka_unit_test(test_server_lines),
		cmocka_unit_test(test_finish_checks),
		cmocka_unit_test(test_myid),
		cmocka_unit_test(test_myid_crlf),
		cmocka_unit_test(test_jaas),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
