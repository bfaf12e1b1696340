package dev.belfry.http.compression;

import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** Picks a coding from {@code Accept-Encoding} values (RFC 9110, section 12.5.3). */
final class AcceptEncoding {
    private AcceptEncoding() {}

    /**
     * The offered coding with the highest q-value in {@code values}, ties going to the earlier in
     * {@code offered}; {@code null} if none is acceptable (or the header is absent).
     */
    static @Nullable ContentCoding choose(List<String> values, List<ContentCoding> offered) {
        if (values.isEmpty()) {
            return null;
        }
        Map<ContentCoding, Double> q = new EnumMap<>(ContentCoding.class);
        double star = 0;
        for (String value : values) {
            for (String element : value.split(",", -1)) {
                String[] parts = element.split(";", -1);
                String token = parts[0].strip().toLowerCase(Locale.ROOT);
                if (token.isEmpty()) {
                    continue;
                }
                double weight = 1;
                for (int i = 1; i < parts.length; i++) {
                    String param = parts[i].strip();
                    if (param.length() > 2
                            && (param.charAt(0) == 'q' || param.charAt(0) == 'Q')
                            && param.charAt(1) == '=') {
                        weight = parseQ(param.substring(2));
                    }
                }
                if (token.equals("*")) {
                    star = weight;
                    continue;
                }
                ContentCoding coding = ContentCoding.fromToken(token);
                if (coding != null) {
                    q.merge(coding, weight, Math::max); // the highest weight wins if listed twice
                }
            }
        }
        ContentCoding best = null;
        double bestQ = 0;
        for (ContentCoding coding : offered) {
            double weight = q.getOrDefault(coding, star);
            if (weight > bestQ) {
                best = coding;
                bestQ = weight;
            }
        }
        return best;
    }

    private static double parseQ(String text) {
        try {
            double q = Double.parseDouble(text.strip());
            return q >= 0 && q <= 1 ? q : 0;
        } catch (NumberFormatException e) {
            return 0; // an unreadable weight refuses rather than guesses
        }
    }
}
