package dev.belfry;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ReadinessTest {

    @ParameterizedTest(name = "{0} or {1} = {2}")
    @CsvSource({
        "READY,  READY,  READY",
        "READY,  BUSY,   READY",
        "READY,  CLOSED, READY",
        "BUSY,   READY,  READY",
        "BUSY,   BUSY,   BUSY",
        "BUSY,   CLOSED, BUSY",
        "CLOSED, READY,  READY",
        "CLOSED, BUSY,   BUSY",
        "CLOSED, CLOSED, CLOSED",
    })
    void orIsReadyIfAnyIsReadyAndClosedOnlyIfAllAre(Readiness left, Readiness right, Readiness expected) {
        assertThat(left.or(right)).isEqualTo(expected);
    }

    @ParameterizedTest(name = "{0} and {1} = {2}")
    @CsvSource({
        "READY,  READY,  READY",
        "READY,  BUSY,   BUSY",
        "READY,  CLOSED, CLOSED",
        "BUSY,   READY,  BUSY",
        "BUSY,   BUSY,   BUSY",
        "BUSY,   CLOSED, CLOSED",
        "CLOSED, READY,  CLOSED",
        "CLOSED, BUSY,   CLOSED",
        "CLOSED, CLOSED, CLOSED",
    })
    void andIsTheLeastReadyOfTheTwo(Readiness left, Readiness right, Readiness expected) {
        assertThat(left.and(right)).isEqualTo(expected);
    }
}
