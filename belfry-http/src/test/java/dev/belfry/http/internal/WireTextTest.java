package dev.belfry.http.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.belfry.http.HttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.util.AsciiString;
import org.junit.jupiter.api.Test;

class WireTextTest {
    @Test
    void nettysHeaderNamesAndValuesComeBackAsItsOwnConstants() {
        assertThat(WireText.of("content-type")).isSameAs(HttpHeaderNames.CONTENT_TYPE);
        assertThat(WireText.of("x-requested-with")).isSameAs(HttpHeaderNames.X_REQUESTED_WITH);
        assertThat(WireText.of("content-length")).isSameAs(HttpHeaderNames.CONTENT_LENGTH);
        assertThat(WireText.of("gzip")).isSameAs(HttpHeaderValues.GZIP);
    }

    @Test
    void belfrysContentTypesAreAsciiStringsOfTheSameText() {
        assertThat(WireText.of(HttpResponse.TEXT_UTF8))
                .isInstanceOf(AsciiString.class)
                .hasToString(HttpResponse.TEXT_UTF8);
        assertThat(WireText.of(HttpResponse.JSON))
                .isInstanceOf(AsciiString.class)
                .hasToString("application/json");
    }

    @Test
    void anythingElseIsReturnedAsItIs() {
        String custom = "x-belfry-custom";
        assertThat(WireText.of(custom)).isSameAs(custom);
        String mixedCase = "Content-Type"; // names are stored lower case; this is a value here
        assertThat(WireText.of(mixedCase)).isSameAs(mixedCase);
        String value = "text/plain; charset=latin1";
        assertThat(WireText.of(value)).isSameAs(value);
    }
}
