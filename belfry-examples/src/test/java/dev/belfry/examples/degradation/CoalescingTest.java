package dev.belfry.examples.degradation;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import dev.belfry.examples.degradation.Coalescing.Row;
import dev.belfry.examples.users.Main;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The coalescing figure on a real PostgreSQL: 200 concurrent readers of one id. */
class CoalescingTest {
    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void coalescingAndTheCacheCutTheQueriesOfManyReadersOfOneId() throws Exception {
        List<Row> rows;
        try (RestartableDatabase database = RestartableDatabase.start();
                HikariDataSource pool = Main.pool(database.jdbcUrl())) {
            rows = Coalescing.run(pool, 200, Duration.ofSeconds(2));
        }
        Coalescing.print(rows);
        Row plain = rows.get(0);
        Row coalesced = rows.get(1);
        Row cached = rows.get(2);
        assertThat(plain.queries())
                .as("without coalescing every read is a query")
                .isEqualTo(plain.reads());
        assertThat(coalesced.reads()).isGreaterThan(1000);
        assertThat(coalesced.queries())
                .as("coalesced: about one query per round of 200 readers")
                .isLessThan(coalesced.reads() / 20);
        assertThat(cached.queries()).as("cached for 5 s: one query in 2 s").isEqualTo(1);
        assertThat(cached.reads()).isGreaterThan(coalesced.reads());
    }
}
