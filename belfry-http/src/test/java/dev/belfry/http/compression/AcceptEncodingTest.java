package dev.belfry.http.compression;

import static dev.belfry.http.compression.ContentCoding.BR;
import static dev.belfry.http.compression.ContentCoding.DEFLATE;
import static dev.belfry.http.compression.ContentCoding.GZIP;
import static dev.belfry.http.compression.ContentCoding.ZSTD;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class AcceptEncodingTest {
    private static final List<ContentCoding> ALL = List.of(BR, ZSTD, GZIP, DEFLATE);

    private static ContentCoding choose(String... values) {
        return AcceptEncoding.choose(List.of(values), ALL);
    }

    @Test
    void theHighestQValueWinsAndTiesGoToTheServersOrder() {
        assertThat(choose("gzip, br")).isEqualTo(BR);
        assertThat(choose("gzip;q=1.0, br;q=0.5")).isEqualTo(GZIP);
        assertThat(choose("deflate;q=0.9", "gzip;q=0.8")).isEqualTo(DEFLATE);
        assertThat(choose("GZip ; Q=0.3 , zstd;q=0.2")).isEqualTo(GZIP);
    }

    @Test
    void starCoversCodingsNotNamedAndQZeroRefuses() {
        assertThat(choose("*")).isEqualTo(BR);
        assertThat(choose("br;q=0, *;q=0.5")).isEqualTo(ZSTD);
        assertThat(choose("br;q=0, zstd;q=0, *")).isEqualTo(GZIP);
        assertThat(choose("gzip;q=0")).isNull();
        assertThat(choose("*;q=0")).isNull();
        assertThat(choose("identity")).isNull();
    }

    @Test
    void noHeaderOrAnUnreadableWeightMeansNoCompression() {
        assertThat(AcceptEncoding.choose(List.of(), ALL)).isNull();
        assertThat(choose("gzip;q=lots")).isNull();
        assertThat(choose("gzip;q=2")).isNull();
        assertThat(choose("")).isNull();
    }

    @Test
    void onlyOfferedCodingsAreChosen() {
        assertThat(AcceptEncoding.choose(List.of("br, gzip;q=0.1"), List.of(GZIP)))
                .isEqualTo(GZIP);
        assertThat(AcceptEncoding.choose(List.of("br"), List.of(GZIP, DEFLATE))).isNull();
    }
}
